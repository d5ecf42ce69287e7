"""RAdam: Adam whose adaptive step is switched on, and rectified, once the variance of the
second moment's estimate is tractable (Liu et al., 2019), as PyTorch's ``torch.optim.RAdam``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .adam import adam_moments
from .optimizer import Optimizer, _adam_options, _check_betas, _check_nonnegative, _count_step, _decayed_grad

__all__ = ["RAdam"]


_STATE = ("exp_avg", "exp_avg_sq")  # the state tensors, after the step counter


class RAdam(Optimizer):
    """Adam's moments; while ``rho_t <= 5`` the step is SGD with momentum on the
    bias-corrected first moment, after that Adam's step times the rectification term.

    >>> opt = chainrule.optim.RAdam(params, lr=1e-3)
    """

    _group_option_defaults = {"foreach": None, "maximize": False, "differentiable": False,
                              "decoupled_weight_decay": False, "capturable": False}
    _zero_state_names = _STATE

    def __init__(self, params: Any, lr: Any = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        _check_nonnegative(lr=lr, eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay)
        self._check_not_differentiable(differentiable)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, eps, beta1, beta2, weight_decay, maximize = _adam_options(group)
            decoupled = group["decoupled_weight_decay"]
            for param, grad, states, work, tmp, step in self._pieces(group, _STATE, _count_step, "RAdam.step"):
                exp_avg, exp_avg_sq = states
                # PyTorch's _single_tensor_radam, op for op, into reusable buffers.
                grad = _decayed_grad(param, grad, maximize, weight_decay, work, tmp, decoupled, lr)
                adam_moments(exp_avg, exp_avg_sq, grad, beta1, beta2, tmp)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                update = np.divide(exp_avg, bias_correction1, out=work)
                np.multiply(update, lr, out=update)
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    # (bias_correction2 ** 0.5) / (sqrt(v) + eps), as PyTorch's number / tensor:
                    # the tensor's reciprocal times the number
                    adaptive = np.add(np.sqrt(exp_avg_sq, out=tmp), eps, out=tmp)
                    np.reciprocal(adaptive, out=adaptive)
                    np.multiply(adaptive, bias_correction2 ** 0.5, out=adaptive)
                    np.multiply(update, adaptive, out=update)
                    np.multiply(update, rect, out=update)
                np.subtract(param, update, out=param)
        return loss
