"""``torch.cuda.amp``: PyTorch's deprecated spellings of :mod:`chainrule.amp`'s autocast and
GradScaler for the cuda device (each warns, as PyTorch's do, and turns itself off without a GPU)."""
from __future__ import annotations

import warnings
from typing import Any

from .. import amp
from ..amp import custom_bwd, custom_fwd
from ..dtypes import float16

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


class autocast(amp.autocast):
    def __init__(self, enabled: bool = True, dtype: Any = float16, cache_enabled: bool = True) -> None:
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use `torch.amp.autocast('cuda', "
                      "args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use `torch.amp.GradScaler('cuda', "
                      "args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
