"""chainrule: backpropagation as a library.

NumPy tensors with reverse-mode automatic differentiation and PyTorch's API, so that
``import chainrule as torch`` runs code written for PyTorch's common API::

    import chainrule as torch
    w = torch.tensor([2.0], requires_grad=True)
    loss = (torch.tensor([12.0]) - w * torch.tensor([5.0])) ** 2
    loss.backward()
    w.grad            # tensor([-20.])
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

from . import autograd, backend  # backend: tunes malloc once (see backend.keep_freed_memory)
from .autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from math import e, inf, nan, pi

from .creation import (
    arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full, full_like, linspace,
    logspace, multinomial, normal, ones, ones_like, rand, rand_like, randint, randn, randn_like,
    randperm, tensor, zeros, zeros_like,
)
from .default_device import get_default_device, set_default_device
from .dtypes import (
    bool, complex64, complex128, double, dtype, float, float16, float32, float64, get_default_dtype,
    half, int, int8, int16, int32, int64, long, set_default_dtype, short, uint8,
)
from .functional import *  # noqa: F401,F403  (the functional forms: chainrule.exp, chainrule.cat ...)
from .functional import _METHODS, einsum, hstack, vstack, cat, concat, stack, split, chunk, unbind, where
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import Size, Tensor, device

from .functional import abs, all, any, max, min, pow, round, sum  # shadow builtins, as torch does

from .legacy_types import (
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor,
    ShortTensor,
)


class _Cuda:
    """``chainrule.cuda``: the GPU path goes through CuPy when it is installed."""

    @staticmethod
    def is_available() -> "builtins.bool":
        from .backend import cuda_available

        return cuda_available()

    @staticmethod
    def device_count() -> "builtins.int":
        return 1 if _Cuda.is_available() else 0

    @staticmethod
    def manual_seed(seed: Any) -> None:
        return None

    manual_seed_all = manual_seed


import builtins  # noqa: E402

cuda = _Cuda()


def set_printoptions(**kwargs: Any) -> None:
    """Accepted for compatibility; chainrule prints like PyTorch's defaults."""


def __getattr__(name: str) -> Any:
    # Heavier subpackages load on first use so that `import chainrule` stays light.
    import importlib

    if name in ("nn", "optim", "data", "utils", "viz", "datasets", "serialization", "cli", "linalg", "onnx"):
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    if name in ("save", "load"):
        from . import serialization

        return getattr(serialization, name)
    if name == "explain":
        from .viz.explain import explain

        return explain
    raise AttributeError(f"module 'chainrule' has no attribute '{name}'")
