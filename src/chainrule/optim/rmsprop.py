"""RMSprop: divide the gradient by a running root mean square of recent gradients (optionally
centered, with momentum), as PyTorch's ``torch.optim.RMSprop``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..tensor import Tensor
from .adam import _lerp
from .optimizer import Optimizer, _check_nonnegative, _count_step, _decayed_grad, _step_counter, _zeros_like

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``v = alpha v + (1 - alpha) g^2``; ``p -= lr * g / (sqrt(v) + eps)`` (centered: ``v``
    minus the squared running mean of ``g``; with momentum: a buffer of those steps).

    >>> opt = chainrule.optim.RMSprop(params, lr=1e-2, alpha=0.99)
    """

    _group_option_defaults = {"momentum": 0, "centered": False, "foreach": None, "maximize": False,
                              "differentiable": False, "capturable": False}

    def __init__(self, params: Any, lr: Any = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_nonnegative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        self._check_not_differentiable(differentiable)
        defaults = {
            "lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
            "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, state: dict, p: Tensor, group: dict[str, Any]) -> None:
        state["step"] = _step_counter()
        state["square_avg"] = _zeros_like(p._data)
        if float(group["momentum"]) > 0:
            state["momentum_buffer"] = _zeros_like(p._data)
        if group["centered"]:
            state["grad_avg"] = _zeros_like(p._data)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            alpha = float(group["alpha"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            momentum = float(group["momentum"])
            centered = group["centered"]
            maximize = group["maximize"]
            names = ("square_avg",) + (("momentum_buffer",) if momentum > 0 else ()) + (
                ("grad_avg",) if centered else ())
            for param, grad, states, work, tmp, _ in self._pieces(group, names, _count_step, "RMSprop.step"):
                square_avg = states[0]
                # PyTorch's _single_tensor_rmsprop, op for op, into reusable buffers.
                grad = _decayed_grad(param, grad, maximize, weight_decay, work, tmp)
                np.multiply(square_avg, alpha, out=square_avg)
                np.multiply(grad, 1 - alpha, out=tmp)
                np.multiply(tmp, grad, out=tmp)
                np.add(square_avg, tmp, out=square_avg)
                if centered:
                    grad_avg = states[-1]
                    _lerp(grad_avg, grad, 1 - alpha, tmp)
                    # square_avg.addcmul(grad_avg, grad_avg, value=-1), exactly, in one pass less
                    np.multiply(grad_avg, grad_avg, out=tmp)
                    avg = np.subtract(square_avg, tmp, out=tmp)
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(square_avg, out=tmp)
                np.add(avg, eps, out=avg)
                if momentum > 0:
                    buf = states[1]
                    np.multiply(buf, momentum, out=buf)
                    np.divide(grad, avg, out=avg)
                    np.add(buf, avg, out=buf)
                    np.multiply(buf, -lr, out=tmp)
                    np.add(param, tmp, out=param)
                else:
                    np.multiply(grad, -lr, out=work)
                    np.divide(work, avg, out=work)
                    np.add(param, work, out=param)
        return loss
