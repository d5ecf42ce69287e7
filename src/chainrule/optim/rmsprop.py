"""RMSprop: divide the gradient by a running root mean square of recent gradients (optionally
centered, with momentum), as PyTorch's ``torch.optim.RMSprop``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..tensor import Tensor
from .adam import _lerp
from .optimizer import Optimizer, _bump, _real, _step_counter, _zeros_like

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``v = alpha v + (1 - alpha) g^2``; ``p -= lr * g / (sqrt(v) + eps)`` (centered: ``v``
    minus the squared running mean of ``g``; with momentum: a buffer of those steps).

    >>> opt = chainrule.optim.RMSprop(params, lr=1e-2, alpha=0.99)
    """

    def __init__(self, params: Any, lr: Any = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        self._check_not_differentiable(differentiable)
        defaults = {
            "lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
            "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        scratch = self._scratch
        for group in self.param_groups:
            lr = float(group["lr"])
            alpha = float(group["alpha"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            momentum = float(group["momentum"])
            centered = group["centered"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_counter()
                    state["square_avg"] = _zeros_like(p._data)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p._data)
                    if centered:
                        state["grad_avg"] = _zeros_like(p._data)
                param = _real(p._data)
                grad = _real(p.grad._data)
                square_avg = _real(state["square_avg"]._data)
                work, tmp = scratch(param)
                # PyTorch's _single_tensor_rmsprop, op for op, into reusable buffers.
                if maximize:
                    grad = np.negative(grad, out=work)
                state["step"]._data += 1
                if weight_decay != 0:
                    np.multiply(param, weight_decay, out=tmp)
                    grad = np.add(grad, tmp, out=work)
                np.multiply(square_avg, alpha, out=square_avg)
                np.multiply(grad, 1 - alpha, out=tmp)
                np.multiply(tmp, grad, out=tmp)
                np.add(square_avg, tmp, out=square_avg)
                if centered:
                    grad_avg = _real(state["grad_avg"]._data)
                    _lerp(grad_avg, grad, 1 - alpha, tmp)
                    # square_avg.addcmul(grad_avg, grad_avg, value=-1), exactly, in one pass less
                    np.multiply(grad_avg, grad_avg, out=tmp)
                    avg = np.subtract(square_avg, tmp, out=tmp)
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(square_avg, out=tmp)
                np.add(avg, eps, out=avg)
                if momentum > 0:
                    buf = _real(state["momentum_buffer"]._data)
                    np.multiply(buf, momentum, out=buf)
                    np.divide(grad, avg, out=avg)
                    np.add(buf, avg, out=buf)
                    np.multiply(buf, -lr, out=tmp)
                    np.add(param, tmp, out=param)
                else:
                    np.multiply(grad, -lr, out=work)
                    np.divide(work, avg, out=work)
                    np.add(param, work, out=param)
                _bump(p, "RMSprop.step")
        return loss
