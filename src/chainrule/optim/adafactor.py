"""Adafactor: Adam-like steps whose second moment of a matrix is kept as its row and column
means only (sublinear memory), relative step sizes and update clipping, as PyTorch's
``torch.optim.Adafactor``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor, _make
from .adam import _lerp
from .optimizer import Optimizer, _bump, _count_step, _step_counter, _zeros_like

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """``rho = min(lr, 1/sqrt(t))``, ``alpha = max(eps2, RMS(p)) rho``; the second moment ``V``
    of ``g`` is a running average with weight ``t^beta2_decay`` (for a parameter of two or more
    dims the outer product of its row and column means over their mean); ``U = g /
    max(sqrt(V), eps1)``; ``p -= alpha U / max(1, RMS(U) / d)``, after ``p *= 1 - lr
    weight_decay``.

    >>> opt = chainrule.optim.Adafactor(params, lr=1e-2)
    """

    _group_option_defaults = {"foreach": None}

    def __init__(self, params: Any, lr: Any = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def _init_state(self, state: dict, p: Tensor, group: dict[str, Any]) -> None:
        state["step"] = _step_counter()
        grad = p._grad._data
        xp = get_array_module(grad)
        if grad.ndim > 1:  # the factored second moment: row means (last dim 1), column means
            state["row_var"] = _make(xp.zeros(grad.shape[:-1] + (1,), dtype=grad.dtype))
            state["col_var"] = _make(xp.zeros(grad.shape[:-2] + (1,) + grad.shape[-1:], dtype=grad.dtype))
        else:
            state["variance"] = _zeros_like(grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            eps1, eps2 = group["eps"]
            options = (lr, float(group["beta2_decay"]), float(eps2), float(group["d"]),
                       float(group["weight_decay"]), group["maximize"])
            for p in group["params"]:
                if p._grad is None:
                    continue
                if p.is_complex():
                    raise RuntimeError("Adafactor does not support complex parameters")
                if p._grad.is_sparse:
                    raise RuntimeError("Adafactor does not support sparse gradients")
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(state, p, group)
                if eps1 is None:  # as PyTorch: the first parameter's dtype's, then kept for the group
                    eps1 = float(np.finfo(p._data.dtype).eps)
                _bump(p, "Adafactor.step")
                _adafactor_update(p._data, p._grad._data, state, eps1, *options)
        return loss


def _adafactor_update(param: Any, grad: Any, state: dict, eps1: float, lr: float, beta2_decay: float,
                      eps2: float, d: float, weight_decay: float, maximize: bool) -> None:
    """One parameter's step, in place: PyTorch's ``_single_tensor_adafactor`` op for op."""
    xp = get_array_module(param)
    if maximize:
        grad = -grad
    step = _count_step(state)
    one_minus_beta2 = step ** beta2_decay
    rho = min(lr, 1 / step ** 0.5)
    alpha = max(eps2, _norm(xp, param) / param.size ** 0.5) * rho
    if weight_decay != 0:
        param *= 1 - lr * weight_decay
    work = xp.empty_like(grad)
    if grad.ndim > 1:
        row_var, col_var = state["row_var"]._data, state["col_var"]._data
        squares = xp.multiply(grad, grad, out=work)
        for axis, var in ((-1, row_var), (-2, col_var)):
            mean = xp.sqrt(squares.sum(axis=axis, keepdims=True))  # torch.norm, then squared
            mean *= mean
            mean /= grad.shape[axis]
            _lerp(var, mean, one_minus_beta2, xp.empty_like(mean))
        estimate = xp.matmul(row_var, col_var, out=work)
        estimate /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
    else:
        variance = state["variance"]._data
        _lerp(variance, xp.multiply(grad, grad, out=work), one_minus_beta2, xp.empty_like(grad))
        estimate = work
        estimate[...] = variance
    update = xp.maximum(estimate, eps1 * eps1, out=estimate)
    xp.sqrt(update, out=update)
    xp.divide(1.0, update, out=update)  # rsqrt, then times the gradient: PyTorch's rounding
    update *= grad
    denom = max(1.0, _norm(xp, update) / (update.size ** 0.5 * d))
    update *= -alpha / denom
    param += update


def _norm(xp: Any, array: Any) -> float:
    """The 2-norm of all of ``array``'s elements, as a Python float."""
    return float(xp.sqrt(xp.vdot(array, array))) if array.ndim else abs(float(array))
