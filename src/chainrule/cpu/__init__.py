"""``torch.cpu``: the CPU as a device module, as ``torch.cuda`` is the GPU's (always available,
one device, nothing to synchronise), and the deprecated ``torch.cpu.amp`` spellings."""
from __future__ import annotations

from typing import Any

from . import amp

__all__ = ["amp", "is_available", "is_initialized", "device_count", "current_device", "set_device", "synchronize"]


def is_available() -> bool:
    """The CPU is always there."""
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    """PyTorch counts the CPU as one device."""
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device: Any) -> None:
    """Nothing to choose: there is one CPU device."""


def synchronize(device: Any = None) -> None:
    """CPU work is done when the call returns: nothing to wait for."""
