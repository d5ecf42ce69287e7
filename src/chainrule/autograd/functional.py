"""Jacobians and Hessians built on ``autograd.grad``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False) -> Any:
    """d func(inputs) / d inputs, shaped output.shape + input.shape."""
    from ..tensor import Tensor
    from .engine import grad

    single = isinstance(inputs, Tensor)
    xs = (inputs,) if single else tuple(inputs)
    xs = tuple(x.detach().requires_grad_(True) for x in xs)
    out = func(*xs)
    rows = []
    for m in range(out._data.size):
        seed = np.zeros(out._data.shape, dtype=out._data.dtype)
        seed.reshape(-1)[m] = 1
        grads = grad([out], list(xs), [Tensor._wrap(seed)], retain_graph=True,
                     create_graph=create_graph, allow_unused=True)
        rows.append([np.zeros(x._data.shape, x._data.dtype) if g is None else g._data for g, x in zip(grads, xs)])
    result = []
    for n, x in enumerate(xs):
        stacked = np.stack([r[n] for r in rows]) if rows else np.zeros((0,) + x._data.shape)
        result.append(Tensor._wrap(stacked.reshape(out._data.shape + x._data.shape)))
    return result[0] if single else tuple(result)


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False) -> Any:
    """Second derivatives of a scalar ``func``."""
    from ..tensor import Tensor
    from .engine import grad

    def gradient(x: Any) -> Any:
        (g,) = grad(func(x), x, create_graph=True)
        return g

    if not isinstance(inputs, Tensor):
        raise NotImplementedError("hessian: pass a single tensor")
    return jacobian(gradient, inputs)
