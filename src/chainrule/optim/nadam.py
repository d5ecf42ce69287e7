"""NAdam: Adam with Nesterov momentum (and the momentum schedule of Dozat, 2016), as PyTorch's
``torch.optim.NAdam``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..tensor import Tensor, _make
from .adam import adam_moments
from .optimizer import (Optimizer, _adam_options, _check_betas, _check_nonnegative, _count_step,
                        _decayed_grad, _scalar_dtype, _step_counter, _zeros_like)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Adam's moments; the step mixes the gradient and the first moment with the scheduled
    momentum ``mu_t = beta1 (1 - 0.5 * 0.96^(t momentum_decay))``.

    >>> opt = chainrule.optim.NAdam(params, lr=2e-3)
    """

    _group_option_defaults = {"maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                              "decoupled_weight_decay": False}

    def __init__(self, params: Any, lr: Any = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_nonnegative(lr=lr, eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay, momentum_decay=momentum_decay)
        self._check_not_differentiable(differentiable)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, state: dict, p: Tensor, group: dict[str, Any]) -> None:
        state["step"] = _step_counter()
        state["mu_product"] = _make(np.ones((), dtype=_scalar_dtype()))
        state["exp_avg"] = _zeros_like(p._data)
        state["exp_avg_sq"] = _zeros_like(p._data)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, eps, beta1, beta2, weight_decay, maximize = _adam_options(group)
            decoupled = group["decoupled_weight_decay"]
            momentum_decay = float(group["momentum_decay"])

            def schedule(state: dict) -> tuple:
                """Count the step and advance the product of the momenta (in the counter's dtype,
                as PyTorch's tensor): (t, mu_t, mu_t+1, prod mu_1..t)."""
                step = _count_step(state)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                product = state["mu_product"]._data
                product *= mu
                return step, mu, mu_next, product.item()

            for param, grad, states, work, tmp, (step, mu, mu_next, mu_product) in self._pieces(
                    group, _STATE, schedule, "NAdam.step"):
                exp_avg, exp_avg_sq = states
                # PyTorch's _single_tensor_nadam, op for op, into reusable buffers.
                grad = _decayed_grad(param, grad, maximize, weight_decay, work, tmp, decoupled, lr)
                adam_moments(exp_avg, exp_avg_sq, grad, beta1, beta2, tmp)
                denom = np.sqrt(np.divide(exp_avg_sq, 1 - beta2 ** step, out=tmp), out=tmp)
                np.add(denom, eps, out=denom)
                mu_product_next = mu_product * mu_next
                np.multiply(grad, -lr * (1.0 - mu) / (1.0 - mu_product), out=work)
                np.divide(work, denom, out=work)
                np.add(param, work, out=param)
                np.multiply(exp_avg, (-lr * mu_next) / (1.0 - mu_product_next), out=work)
                np.divide(work, denom, out=work)
                np.add(param, work, out=param)
        return loss


_STATE = ("exp_avg", "exp_avg_sq")
