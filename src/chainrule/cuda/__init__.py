"""``chainrule.cuda``: the GPU, as ``torch.cuda``.

The ``cuda`` device is CuPy (the optional extra ``chainrule[cuda]``); importing chainrule
never imports it.  Without CuPy or without a GPU, :func:`is_available` is False (quickly, and
without an exception) and everything that needs the device raises a one-line RuntimeError
saying why.  The memory figures are CuPy's memory pool's: ``memory_allocated`` the bytes its
arrays hold, ``memory_reserved`` the bytes the pool holds from the driver.
"""
from __future__ import annotations

from typing import Any

from .. import backend as _backend
from ..random import seed_devices as _seed_devices
from . import amp  # torch.cuda.amp: the deprecated cuda spellings of chainrule.amp

#: The highest ``memory_allocated`` seen per device (CuPy's pool keeps no peak): sampled at
#: every memory query and ``synchronize``.
_peaks: dict[int, int] = {}


def is_available() -> bool:
    """Whether a GPU can be used: CuPy is installed and sees at least one device."""
    return _backend.cuda_available()


def device_count() -> int:
    """The number of GPUs (0 without CuPy or a GPU)."""
    return _backend.device_backend("cuda").device_count() if is_available() else 0


def _cuda() -> _backend.DeviceBackend:
    return _backend.device_backend("cuda")


def _index(device: Any) -> int:
    """A device argument (None: the current device; an index, a name, a device) as an index."""
    if device is None:
        return _cuda().current_device()
    dev = _backend.check_device(device)
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    return _cuda().current_device() if dev.index is None else dev.index


def current_device() -> int:
    """The index of the GPU new ``cuda`` tensors go to."""
    return _cuda().current_device()


def set_device(device: Any) -> None:
    """Make ``device`` (an index, ``"cuda:1"``, a device) the current GPU."""
    _cuda().set_device(_index(device))


def get_device_name(device: Any = None) -> str:
    """The GPU's name (``"NVIDIA H200"``)."""
    return _cuda().device_name(_index(device))


def synchronize(device: Any = None) -> None:
    """Wait until everything queued on the GPU has finished."""
    index = _index(device)
    _cuda().synchronize(index)
    _sample(index)


def manual_seed(seed: int) -> None:
    """Seed the current GPU's default generator (nothing without a GPU, as in PyTorch)."""
    if is_available():
        _seed_devices(seed, "cuda", current_device())


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's default generator."""
    _seed_devices(seed, "cuda")


def _pool(index: int) -> tuple[Any, Any]:
    cuda = _cuda()
    return cuda.memory_pool, cuda.context(index)


def _sample(index: int) -> int:
    pool, context = _pool(index)
    if pool is None:
        return 0
    with context:
        used = int(pool.used_bytes())
    if used > _peaks.get(index, 0):
        _peaks[index] = used
    return used


def memory_allocated(device: Any = None) -> int:
    """Bytes held by the GPU's arrays (CuPy's memory pool, used bytes)."""
    return _sample(_index(device))


def max_memory_allocated(device: Any = None) -> int:
    """The highest ``memory_allocated`` seen since the start or ``reset_peak_memory_stats``
    (CuPy's pool has no peak counter: it is sampled at every memory query and
    ``synchronize``)."""
    index = _index(device)
    _sample(index)
    return _peaks.get(index, 0)


def reset_peak_memory_stats(device: Any = None) -> None:
    """Start the peak of ``max_memory_allocated`` again from the current value."""
    index = _index(device)
    _peaks.pop(index, None)
    _sample(index)


def memory_reserved(device: Any = None) -> int:
    """Bytes the memory pool holds from the driver (in use or cached for reuse)."""
    pool, context = _pool(_index(device))
    if pool is None:
        return 0
    with context:
        return int(pool.total_bytes())


def empty_cache() -> None:
    """Hand the pool's cached, unused blocks back to the driver."""
    if not is_available():
        return
    pool = _cuda().memory_pool
    if pool is not None:
        pool.free_all_blocks()


__all__ = ["is_available", "device_count", "current_device", "set_device", "get_device_name", "synchronize",
           "manual_seed", "manual_seed_all", "memory_allocated", "max_memory_allocated",
           "reset_peak_memory_stats", "memory_reserved", "empty_cache"]
