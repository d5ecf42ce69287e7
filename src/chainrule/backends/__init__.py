"""``torch.backends``: the switches PyTorch programs set for cuDNN, CUDA matmuls, MPS,
MKL-DNN and OpenMP (``torch.backends.cudnn.benchmark = True`` ...).

chainrule runs NumPy's kernels (CuPy's on a GPU) and none of these libraries, so the flags
are kept and read back and change no number; each ``is_available()`` says False.
"""
from __future__ import annotations

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
