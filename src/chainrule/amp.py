"""Automatic mixed precision, as ``torch.amp``: ``autocast`` and ``GradScaler``.

An enabled ``autocast("cpu")`` region casts as PyTorch's CPU autocast does (its dtype,
bfloat16 by default, needs the ``bfloat16`` extra): the matrix products (matmul, mm, bmm,
linear, the convolutions) take their floating inputs in the region's dtype
(:func:`lower_precision`), the losses in float32 (:func:`full_precision`), float64 inputs
stay as they are, and every other op runs in the dtypes it is given.  A ``cuda`` region
casts nothing (it runs as written).  ``is_autocast_enabled()`` reports the region.
``GradScaler`` is PyTorch's:
it multiplies the loss by a scale, unscales the gradients, skips a step whose gradients hold
inf or NaN and adapts the scale.  On float32 gradients the power-of-two scale and its
inverse are exact, so training with it gives the numbers training without it gives, but for
the steps that overflow, which it skips as PyTorch does.

As PyTorch, a scaler or an autocast for the ``cuda`` device turns itself off, with a warning,
where no GPU is available.
"""
from __future__ import annotations

import functools
import threading
import warnings
from typing import Any, Callable

import numpy as np

from .autograd.grad_mode import no_grad
from .backend import cuda_available
from .dtypes import bfloat16, float16, float32, float64
from .tensor import Tensor, _make

__all__ = ["autocast", "GradScaler", "is_autocast_enabled", "get_autocast_dtype", "custom_fwd", "custom_bwd"]


class _Regions(threading.local):
    """Per thread (as PyTorch keeps autocast state): the autocast regions entered, innermost
    last, as (device, enabled, dtype)."""

    def __init__(self) -> None:
        self.open: list[tuple[str, bool, Any]] = []


_regions = _Regions()

#: How many enabled CPU regions are open, in all threads: the casts' one test on their
#: common path, outside any region.
_casting = 0


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether the innermost autocast region for ``device_type`` ("cuda" when not given, as
    PyTorch's no-argument form asks) open in this thread is enabled."""
    device = device_type or "cuda"
    for entered, enabled, _ in reversed(_regions.open):
        if entered == device:
            return enabled
    return False


def _cast_all(tensors: tuple, dtype: Any) -> tuple:
    return tuple(t.to(dtype) if isinstance(t, Tensor) and t.is_floating_point() and t.dtype != float64
                 and t.dtype != dtype else t for t in tensors)


def _cpu_region_dtype() -> Any:
    """The dtype of this thread's innermost CPU autocast region, None when it is disabled
    or there is none."""
    for entered, enabled, dtype in reversed(_regions.open):
        if entered == "cpu":
            return dtype if enabled else None
    return None


def lower_precision(*tensors: Any) -> tuple:
    """The operands of an op PyTorch's CPU autocast runs in lower precision (matmul, linear,
    the convolutions): inside an enabled CPU region, its floating tensors but float64 in the
    region's dtype; else as given."""
    if not _casting:
        return tensors
    dtype = _cpu_region_dtype()
    return tensors if dtype is None else _cast_all(tensors, dtype)


def full_precision(*tensors: Any) -> tuple:
    """The operands of an op PyTorch's CPU autocast runs in float32 (the losses): inside an
    enabled CPU region, its reduced-precision tensors in float32; else as given."""
    if not _casting or _cpu_region_dtype() is None:
        return tensors
    return _cast_all(tensors, float32)


def get_autocast_dtype(device_type: str) -> Any:
    """The dtype autocast names for ``device_type`` (PyTorch's: float16 on a GPU, bfloat16
    elsewhere)."""
    return float16 if device_type == "cuda" else bfloat16


class autocast:
    """``with chainrule.autocast("cpu"):`` or as a decorator: a CPU region casts as
    PyTorch's (see the module docstring)."""

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if enabled and device_type == "cuda" and not cuda_available():
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
            enabled = False
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._enabled = bool(enabled)

    def __enter__(self) -> "autocast":
        global _casting
        _regions.open.append((self.device, self._enabled, self.fast_dtype))
        if self._enabled and self.device == "cpu":
            _casting += 1
        return self

    def __exit__(self, *exc: object) -> bool:
        global _casting
        _regions.open.pop()
        if self._enabled and self.device == "cpu":
            _casting -= 1
        return False

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def within(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)
        return within


def custom_fwd(fwd: Callable | None = None, *, device_type: str = "cuda", cast_inputs: Any = None) -> Any:
    """``torch.amp.custom_fwd``: the forward of a custom Function runs as written (no casts)."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd: Callable | None = None, *, device_type: str = "cuda") -> Any:
    """``torch.amp.custom_bwd``: the backward of a custom Function runs as written."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd


_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """PyTorch's gradient scaler: ``scaler.scale(loss).backward(); scaler.step(optimizer);
    scaler.update()`` (``scaler.unscale_(optimizer)`` first to clip the true gradients)."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        if enabled and device == "cuda" and not cuda_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        if growth_factor <= 1.0:
            raise AssertionError("The growth factor must be > 1.0.")
        if backoff_factor >= 1.0:
            raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._scale: float | None = None  # made at the first scale(), as PyTorch's lazy tensor
        self._growth_tracker = 0
        self._states: dict[int, dict] = {}

    # -- the training step ----------------------------------------------------------------------
    def scale(self, outputs: Any) -> Any:
        """``outputs`` (a tensor, or tensors in lists, tuples and dicts) times the scale."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = self._init_scale
        factor = _make(np.array(self._scale, dtype=np.float32))
        with np.errstate(over="ignore"):  # an overflow here is what the scaler is there to find
            return _scaled(outputs, factor)

    def unscale_(self, optimizer: Any) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place, noting inf or NaN among them."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] is _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        if self._scale is None:
            raise AssertionError("Attempted unscale_ but _scale is None.  This may indicate your script did "
                                 "not use scaler.scale(loss or outputs) earlier in the iteration.")
        inverse = np.float32(np.float64(1.0) / np.float64(self._scale))
        found = False
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    found = found or not bool(np.isfinite(grad._data).all())
                    grad.mul_(float(inverse))
        state["found_inf"] = found
        state["stage"] = _UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step()`` on the unscaled gradients, unless they hold inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] is _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: Any = None) -> None:
        """Halve the scale (``backoff_factor``) after a step with inf or NaN, double it
        (``growth_factor``) after ``growth_interval`` clean steps in a row."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
        else:
            if not self._states:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(s["found_inf"] for s in self._states.values()):
                self._scale = float(np.float32(self._scale) * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    with np.errstate(over="ignore"):
                        grown = np.float32(self._scale) * np.float32(self._growth_factor)
                    if np.isfinite(grown):  # a scale that would overflow stays where it is
                        self._scale = float(grown)
                    self._growth_tracker = 0
        self._states = {}

    def _state(self, optimizer: Any) -> dict:
        return self._states.setdefault(id(optimizer), {"stage": _READY, "found_inf": False})

    # -- settings and checkpoints -----------------------------------------------------------------
    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def state_dict(self) -> dict:
        """PyTorch's keys: scale, growth_factor, backoff_factor, growth_interval, _growth_tracker
        (empty when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        self._scale = self._init_scale
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


def _scaled(outputs: Any, factor: Tensor) -> Any:
    if isinstance(outputs, Tensor):
        return outputs * factor
    if isinstance(outputs, (list, tuple)):
        return type(outputs)(_scaled(o, factor) for o in outputs)
    if isinstance(outputs, dict):
        return {k: _scaled(v, factor) for k, v in outputs.items()}
    raise ValueError("outputs must be a Tensor or an iterable of Tensors")
