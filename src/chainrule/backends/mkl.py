"""``torch.backends.mkl``: whether MKL runs chainrule's large GEMMs (the ``mkl`` extra)."""
from __future__ import annotations

from .. import gemm


def is_available() -> bool:
    return gemm.backend() == "mkl"
