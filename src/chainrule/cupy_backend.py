"""CuPy as chainrule's ``cuda`` device.

:func:`load` imports CuPy (only when a ``cuda`` tensor is first asked for, or
``chainrule.cuda`` is queried) and describes it as a :class:`~chainrule.backend.DeviceBackend`:
CuPy's namespace, how arrays move, its random numbers (cuRAND through
``cupy.random.RandomState``, so CPU and GPU streams differ, as in PyTorch), its special
functions and its memory pool.

TF32 stays off: CuPy computes float32 matmuls in full float32 unless the user sets
``CUPY_TF32=1`` (PyTorch's default for matmuls is off too).  The elementwise chains the
layers above offer (``backend.FUSABLE``: the Adam update) are compiled with ``cupy.fuse``
into one kernel each.
"""
from __future__ import annotations

from typing import Any

from .backend import CUPY_HINT, DeviceBackend


class CupySampler:
    """NumPy ``Generator`` names over a ``cupy.random.RandomState`` on one GPU: the sampler
    chainrule's random ops draw from on that device."""

    def __init__(self, cupy: Any, seed: int, index: int) -> None:
        self._device = cupy.cuda.Device(index)
        with self._device:
            self._state = cupy.random.RandomState(seed)

    def random(self, size: Any = None, dtype: Any = float) -> Any:
        with self._device:
            return self._state.random_sample(size, dtype)

    def standard_normal(self, size: Any = None, dtype: Any = float) -> Any:
        with self._device:
            return self._state.standard_normal(size, dtype)

    def integers(self, low: int, high: int | None = None, size: Any = None, dtype: Any = "int64") -> Any:
        with self._device:
            return self._state.randint(low, high, size, dtype)

    def permutation(self, n: int) -> Any:
        with self._device:
            return self._state.permutation(n)

    def normal(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = float) -> Any:
        with self._device:
            return self._state.normal(loc, scale, size, dtype)

    def uniform(self, low: Any = 0.0, high: Any = 1.0, size: Any = None, dtype: Any = float) -> Any:
        with self._device:
            return self._state.uniform(low, high, size, dtype)


def load() -> DeviceBackend:
    """The ``cuda`` backend over CuPy; RuntimeError (saying why, in one line) when CuPy is
    missing or finds no GPU it can use."""
    try:
        import cupy
    except ImportError:
        raise RuntimeError(f"CUDA is not available: {CUPY_HINT}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDARuntimeError: no driver, an old driver, no device
        raise RuntimeError(f"CUDA is not available: CuPy found no usable GPU ({error})") from None
    if count < 1:
        raise RuntimeError("CUDA is not available: CuPy found no GPU")
    import cupyx.scipy.special

    def to_device(array: Any, index: int) -> Any:
        with cupy.cuda.Device(index):
            if isinstance(array, cupy.ndarray):  # another GPU's array: a copy on this one
                return cupy.array(array, copy=True)
            return cupy.asarray(array)

    def device_name(index: int) -> str:
        name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
        return name.decode() if isinstance(name, bytes) else str(name)

    return DeviceBackend(
        name="cuda",
        namespace=cupy,
        array_type=cupy.ndarray,
        to_device=to_device,
        to_host=cupy.asnumpy,
        index_of=lambda array: array.device.id,
        device_count=lambda: count,
        current_device=cupy.cuda.runtime.getDevice,
        set_device=lambda index: cupy.cuda.runtime.setDevice(index),
        synchronize=lambda index: cupy.cuda.Device(index).synchronize(),
        device_name=device_name,
        context=cupy.cuda.Device,
        generator=lambda seed, index: CupySampler(cupy, seed, index),
        special={"erf": cupyx.scipy.special.erf, "erfinv": cupyx.scipy.special.erfinv},
        memory_pool=cupy.get_default_memory_pool(),
        fuse=lambda function: cupy.fuse(kernel_name=f"chainrule_{function.__name__}")(function),
    )
