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


def _prepare(inputs: Any) -> tuple:
    from ..tensor import Tensor

    single = isinstance(inputs, Tensor)
    xs = (inputs,) if single else tuple(inputs)
    return single, tuple(x.detach().requires_grad_(True) for x in xs)


def _as_tuple(v: Any) -> tuple | None:
    from ..tensor import Tensor

    if v is None:
        return None
    return (v,) if isinstance(v, Tensor) else tuple(v)


def _grads(outputs: Any, xs: tuple, seeds: Any, create_graph: bool) -> tuple:
    """d outputs / d xs against ``seeds``, zeros (not None) for inputs that do not matter."""
    from ..creation import zeros_like
    from .engine import grad

    outs = _as_tuple(outputs)
    grads = grad(list(outs), list(xs), None if seeds is None else list(_as_tuple(seeds)),
                 retain_graph=True, create_graph=create_graph, allow_unused=True)
    return tuple(zeros_like(x) if g is None else g for g, x in zip(grads, xs))


def _result(values: tuple, single: bool, create_graph: bool) -> Any:
    values = values if create_graph else tuple(v.detach() for v in values)
    return values[0] if single else values


def _outputs(out: Any, create_graph: bool) -> Any:
    from ..tensor import Tensor

    if isinstance(out, Tensor):
        return out if create_graph else out.detach()
    return tuple(o if create_graph else o.detach() for o in out)


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T J): the vector-Jacobian product, by one backward pass."""
    single, xs = _prepare(inputs)
    out = func(*xs)
    return _outputs(out, create_graph), _result(_grads(out, xs, v, create_graph), single, create_graph)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), J v): the Jacobian-vector product, as the gradient of a vjp with respect
    to its (dummy) vector, which is linear in it (the double-backward trick)."""
    from ..creation import zeros_like

    single, xs = _prepare(inputs)
    out = func(*xs)
    outs = _as_tuple(out)
    dummies = tuple(zeros_like(o).requires_grad_(True) for o in outs)
    grads = _grads(outs, xs, dummies, True)
    from .engine import grad

    products = grad(list(grads), list(dummies), list(_as_tuple(v)) if v is not None else None,
                    retain_graph=True, create_graph=create_graph, allow_unused=True)
    products = tuple(zeros_like(o) if p is None else p for p, o in zip(products, outs))
    return _outputs(out, create_graph), _result(products, not isinstance(out, (tuple, list)), create_graph)


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T H) for a scalar ``func``."""
    single, xs = _prepare(inputs)
    out = func(*xs)
    first = _grads(out, xs, None, True)
    from .engine import grad

    seeds = _as_tuple(v)
    total = sum((g * s).sum() for g, s in zip(first, seeds))
    products = grad(total, list(xs), retain_graph=True, create_graph=create_graph, allow_unused=True)
    from ..creation import zeros_like

    products = tuple(zeros_like(x) if p is None else p for p, x in zip(products, xs))
    return _outputs(out, create_graph), _result(products, single, create_graph)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), H v) for a scalar ``func``: the Hessian is symmetric, so H v = v^T H."""
    return vhp(func, inputs, v, create_graph, strict)
