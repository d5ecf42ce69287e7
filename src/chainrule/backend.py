"""The array-namespace seam.

Every op asks the arrays it holds for their namespace instead of naming ``numpy``:
NumPy arrays answer ``numpy``, CuPy arrays answer ``cupy``.  CuPy is imported only
when a CuPy array is actually seen, so the CPU path never pays for it.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

ndarray = np.ndarray


def get_array_module(array: Any) -> ModuleType:
    """Return the array namespace (``numpy`` or ``cupy``) that owns ``array``."""
    if type(array) is np.ndarray or isinstance(array, (np.ndarray, np.generic)):
        return np
    module = type(array).__module__
    if module.startswith("cupy"):
        import cupy

        return cupy
    return np


def to_numpy(array: Any) -> np.ndarray:
    """Bring any backend array to host memory as a NumPy array."""
    if isinstance(array, np.ndarray):
        return array
    if hasattr(array, "get"):
        return array.get()
    return np.asarray(array)


class device:
    """A device name, as ``torch.device('cpu')``."""

    def __init__(self, type: str, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, number = str(type).partition(":")
        self.type = name
        self.index = int(number) if number else index

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


def check_device(spec: Any) -> None:
    """Refuse a device chainrule cannot put tensors on, with PyTorch's errors."""
    name = spec.type if isinstance(spec, device) else str(spec).split(":")[0]
    if name not in ("cpu", "cuda", "meta"):
        raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {spec}")
    if name == "cuda" and not cuda_available():
        raise RuntimeError("Torch not compiled with CUDA enabled: chainrule found no CuPy/GPU on this machine")


def cuda_available() -> bool:
    """True when CuPy is installed and sees a GPU."""
    try:
        import cupy
    except ImportError:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # cupy raises its own CUDA errors when no driver is present
        return False


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of handing it back to the OS.

    A training step allocates and frees the same few-megabyte arrays every iteration.  By
    default glibc returns them (munmap, heap trimming), so each new array pays a page fault
    per 4 KiB on its first write: measured at over half of a small CNN's training step.
    Arrays up to 32 MiB are then served from the heap, and up to 256 MiB of freed heap is
    kept.  Skipped off glibc, when the user tunes malloc through MALLOC_* variables or
    GLIBC_TUNABLES, and when CHAINRULE_MALLOC_TUNING=0.  Returns (and ``MALLOC_TUNED``
    says) whether it was applied.

    This changes the whole process, so importing chainrule never does it: the ``chainrule``
    command-line jobs do, and a training script may opt in by calling this once."""
    import ctypes
    import os
    import sys

    global MALLOC_TUNED
    if (not sys.platform.startswith("linux") or os.environ.get("CHAINRULE_MALLOC_TUNING") == "0"
            or any(k.startswith("MALLOC_") for k in os.environ)
            or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    MALLOC_TUNED = bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 256 << 20))
    return MALLOC_TUNED


#: Whether ``keep_freed_memory`` changed malloc's thresholds in this process.
MALLOC_TUNED = False
