"""The default device (``chainrule.set_default_device`` / ``get_default_device``).

chainrule computes on the CPU; until a GPU backend exists, asking for any other device is
an error. :func:`check_device` is the one place that decides which devices exist."""
from __future__ import annotations

from typing import Any

from .backend import device

_CPU = device("cpu")
_default = _CPU


def check_device(dev: Any) -> device:
    """``dev`` (a device, a name such as ``"cpu"`` or ``"cuda:0"``, or a GPU index) as a
    device chainrule can compute on; RuntimeError for one it cannot."""
    if isinstance(dev, int) and not isinstance(dev, bool):
        dev = device("cuda", dev)
    elif not isinstance(dev, device):
        if not isinstance(dev, str):
            raise TypeError(f"expected a device, a device name or an index, got {type(dev).__name__}")
        dev = device(dev)
    if dev.type != "cpu":
        raise RuntimeError(f"chainrule computes on the CPU only: there is no '{dev.type}' backend yet "
                           f"(device '{dev}' was asked for)")
    return dev


def set_default_device(dev: Any) -> None:
    """Set the device new tensors are created on (``None``: back to the CPU)."""
    global _default
    _default = _CPU if dev is None else check_device(dev)


def get_default_device() -> device:
    """The device new tensors are created on: ``device(type='cpu')``."""
    return _default
