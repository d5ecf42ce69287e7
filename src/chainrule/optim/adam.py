"""Adam: running averages of the gradient and its square, bias-corrected, as PyTorch's
``torch.optim.Adam`` (with AMSGrad, maximize, L2 or decoupled weight decay)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..backend import fused, register_fusable
from ..tensor import Tensor
from .optimizer import (Optimizer, _adam_options, _check_betas, _check_nonnegative, _count_step,
                        _decayed_grad, _step_counter, _zeros_like)

__all__ = ["Adam"]


def adam_update(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, weight: float, beta2: float,
                one_minus_beta2: float, neg_step_size: float, bias_correction2_sqrt: float, eps: float) -> None:
    """The Adam update after the gradient is final, in place, as one elementwise chain: the
    moments (the lerp's one-sided form, for ``weight = 1 - beta1 < 0.5``) and the step, in
    PyTorch's order of operations.  Python operators only: on a GPU it is fused into one
    kernel (``backend.fused``); on NumPy arrays it computes what the op-by-op step does."""
    exp_avg += (grad - exp_avg) * weight
    exp_avg_sq *= beta2
    exp_avg_sq += grad * one_minus_beta2 * grad
    param += exp_avg * neg_step_size / (exp_avg_sq ** 0.5 / bias_correction2_sqrt + eps)


register_fusable("adam", adam_update)


def _lerp(start: Any, end: Any, weight: float, tmp: Any) -> None:
    """``start.lerp_(end, weight)`` with PyTorch's two-sided formula (the more accurate side
    for the weight), writing into ``start``."""
    np.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        np.multiply(tmp, weight, out=tmp)
        np.add(start, tmp, out=start)
    else:
        np.multiply(tmp, 1 - weight, out=tmp)
        np.subtract(end, tmp, out=start)


def adam_moments(exp_avg: Any, exp_avg_sq: Any, grad: Any, beta1: float, beta2: float, tmp: Any) -> None:
    """``exp_avg.lerp_(grad, 1 - beta1)`` and ``exp_avg_sq.mul_(beta2).addcmul_(grad, grad,
    value=1 - beta2)``, PyTorch's ops in its order (Adam, NAdam, RAdam share them)."""
    _lerp(exp_avg, grad, 1 - beta1, tmp)
    np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    np.multiply(grad, 1 - beta2, out=tmp)
    np.multiply(tmp, grad, out=tmp)
    np.add(exp_avg_sq, tmp, out=exp_avg_sq)


class Adam(Optimizer):
    """``m = lerp(m, g, 1 - beta1)``, ``v = beta2 v + (1 - beta2) g^2``,
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``.

    >>> opt = chainrule.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999))
    """

    _group_option_defaults = {"amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                              "differentiable": False, "decoupled_weight_decay": False, "fused": None}

    _sparse_refusal = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def __init__(self, params: Any, lr: Any = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        _check_nonnegative(lr=lr, eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor) and beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        self._check_not_differentiable(differentiable)
        defaults = {
            "lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach, "capturable": capturable,
            "differentiable": differentiable, "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)
        self._check_fused(foreach, fused)

    def _init_state(self, state: dict, p: Tensor, group: dict[str, Any]) -> None:
        state["step"] = _step_counter(group["fused"])
        state["exp_avg"] = _zeros_like(p._data)
        state["exp_avg_sq"] = _zeros_like(p._data)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_like(p._data)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        name = f"{type(self).__name__}.step"
        for group in self.param_groups:
            lr, eps, beta1, beta2, weight_decay, maximize = _adam_options(group)
            amsgrad = group["amsgrad"]
            decoupled = group["decoupled_weight_decay"]
            names = _AMSGRAD_STATE if amsgrad else _STATE
            for param, grad, states, work, tmp, step in self._pieces(group, names, _count_step, name):
                # PyTorch's _single_tensor_adam, op for op, into reusable buffers.
                exp_avg, exp_avg_sq = states[0], states[1]
                grad = _decayed_grad(param, grad, maximize, weight_decay, work, tmp, decoupled, lr)
                kernel = None if type(param) is np.ndarray or amsgrad or beta1 <= 0.5 else fused(param, "adam")
                if kernel is not None:  # a device that fuses: one kernel instead of eleven
                    kernel(param, grad, exp_avg, exp_avg_sq, 1 - beta1, beta2, 1 - beta2,
                           -(lr / (1 - beta1 ** step)), (1 - beta2 ** step) ** 0.5, eps)
                    continue
                adam_moments(exp_avg, exp_avg_sq, grad, beta1, beta2, tmp)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5
                if amsgrad:
                    max_exp_avg_sq = states[2]
                    np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    denom = np.sqrt(max_exp_avg_sq, out=tmp)
                else:
                    denom = np.sqrt(exp_avg_sq, out=tmp)
                np.divide(denom, bias_correction2_sqrt, out=denom)
                np.add(denom, eps, out=denom)
                np.multiply(exp_avg, -step_size, out=work)
                np.divide(work, denom, out=work)
                np.add(param, work, out=param)
        return loss


_STATE = ("exp_avg", "exp_avg_sq")
_AMSGRAD_STATE = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
