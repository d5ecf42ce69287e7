"""``torch.backends.openmp``: chainrule runs no OpenMP parallel loops of its own."""
from __future__ import annotations


def is_available() -> bool:
    return False
