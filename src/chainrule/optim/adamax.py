"""Adamax: Adam with the infinity norm in place of the second moment, as PyTorch's
``torch.optim.Adamax``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .adam import _lerp
from .optimizer import Optimizer, _adam_options, _check_betas, _check_nonnegative, _count_step, _decayed_grad

__all__ = ["Adamax"]


_STATE = ("exp_avg", "exp_inf")  # the state tensors, after the step counter


class Adamax(Optimizer):
    """``m = lerp(m, g, 1 - beta1)``, ``u = max(beta2 u, |g| + eps)``,
    ``p -= lr / (1 - beta1^t) * m / u``.

    >>> opt = chainrule.optim.Adamax(params, lr=2e-3)
    """

    _group_option_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _zero_state_names = _STATE

    def __init__(self, params: Any, lr: Any = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_nonnegative(lr=lr, eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay)
        self._check_not_differentiable(differentiable)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, eps, beta1, beta2, weight_decay, maximize = _adam_options(group)
            for param, grad, states, work, tmp, step in self._pieces(group, _STATE, _count_step, "Adamax.step"):
                exp_avg, exp_inf = states
                # PyTorch's _single_tensor_adamax, op for op, into reusable buffers.
                grad = _decayed_grad(param, grad, maximize, weight_decay, work, tmp)
                _lerp(exp_avg, grad, 1 - beta1, tmp)
                np.multiply(exp_inf, beta2, out=exp_inf)
                np.add(np.abs(grad, out=tmp), eps, out=tmp)
                np.maximum(exp_inf, tmp, out=exp_inf)
                clr = lr / (1 - beta1 ** step)
                np.multiply(exp_avg, -clr, out=tmp)
                np.divide(tmp, exp_inf, out=tmp)
                np.add(param, tmp, out=param)
        return loss
