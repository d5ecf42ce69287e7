"""``torch.backends.cpu``: the vector instruction set PyTorch's CPU kernels would pick."""
from __future__ import annotations


def get_cpu_capability() -> str:
    """"DEFAULT": chainrule's kernels are NumPy's, which choose their own SIMD at run time."""
    return "DEFAULT"
