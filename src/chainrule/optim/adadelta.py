"""Adadelta: step sizes from running averages of squared gradients and of squared updates
(no learning rate needed in principle; ``lr`` scales the update), as PyTorch's
``torch.optim.Adadelta``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .optimizer import Optimizer, _check_nonnegative, _count_step, _decayed_grad

__all__ = ["Adadelta"]


_STATE = ("square_avg", "acc_delta")  # the state tensors, after the step counter


class Adadelta(Optimizer):
    """``s = rho s + (1 - rho) g^2``, ``d = sqrt(a + eps) / sqrt(s + eps) * g``,
    ``a = rho a + (1 - rho) d^2``, ``p -= lr d``.

    >>> opt = chainrule.optim.Adadelta(params)
    """

    _group_option_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _zero_state_names = _STATE

    def __init__(self, params: Any, lr: Any = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_nonnegative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonnegative(eps=eps, weight_decay=weight_decay)
        self._check_not_differentiable(differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            maximize = group["maximize"]
            for param, grad, states, work, tmp, _ in self._pieces(group, _STATE, _count_step, "Adadelta.step"):
                square_avg, acc_delta = states
                # PyTorch's _single_tensor_adadelta, op for op, into reusable buffers (a third
                # one when the gradient itself had to be written into ``work``).
                grad = _decayed_grad(param, grad, maximize, weight_decay, work, tmp)
                delta = np.empty_like(work) if grad is work else work
                np.multiply(square_avg, rho, out=square_avg)
                np.multiply(grad, 1 - rho, out=tmp)
                np.multiply(tmp, grad, out=tmp)
                np.add(square_avg, tmp, out=square_avg)
                std = np.sqrt(np.add(square_avg, eps, out=tmp), out=tmp)
                np.sqrt(np.add(acc_delta, eps, out=delta), out=delta)
                np.divide(delta, std, out=delta)
                np.multiply(delta, grad, out=delta)
                np.multiply(acc_delta, rho, out=acc_delta)
                np.multiply(delta, 1 - rho, out=tmp)
                np.multiply(tmp, delta, out=tmp)
                np.add(acc_delta, tmp, out=acc_delta)
                np.multiply(delta, -lr, out=tmp)
                np.add(param, tmp, out=param)
        return loss
