"""PyTorch's ``torch.nn.attention``: choosing the kernel of ``scaled_dot_product_attention``.

chainrule has one implementation of the attention (the "math" one, PyTorch's reference):
:func:`sdpa_kernel` accepts and records the backends a program asks for, as PyTorch's flags,
and every call computes the same values whichever are enabled."""
from __future__ import annotations

import contextlib
from enum import Enum
from typing import Iterator

from . import bias

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

#: PyTorch warns when a fused kernel cannot be used; chainrule has none.
WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(int, Enum):
    """The attention backends PyTorch names (its values too)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __repr__(self) -> str:
        return f"<SDPBackend.{self.name}: {self.value}>"


_ALL = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH, SDPBackend.CUDNN_ATTENTION,
        SDPBackend.OVERRIDEABLE]
_enabled: list = list(_ALL)


def enabled_backends() -> list:
    """The backends enabled now (all of them outside :func:`sdpa_kernel`)."""
    return list(_enabled)


@contextlib.contextmanager
def sdpa_kernel(backends: list | SDPBackend, set_priority: bool = False) -> Iterator[dict]:
    """Context manager: only ``backends`` (one or a list of :class:`SDPBackend`) are enabled
    inside it; the previous ones come back after."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(f"Backend must be an instance of SDPBackend or a list of SDPBackend instances, "
                             f"got {type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    previous = list(_enabled)
    _enabled[:] = list(dict.fromkeys(backends))
    try:
        yield {}
    finally:
        _enabled[:] = previous
