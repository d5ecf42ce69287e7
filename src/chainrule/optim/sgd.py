"""SGD: stochastic gradient descent with optional momentum (heavy-ball or Nesterov), dampening,
L2 weight decay and maximization, step for step as PyTorch's ``torch.optim.SGD``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..tensor import _make
from .optimizer import Optimizer, _bump, _decayed_grad

__all__ = ["SGD"]

#: Elements per slice of the final update (a quarter MiB of float32 scratch).
_BLOCK = 1 << 16


def _add_scaled(param: Any, grad: Any, alpha: float, tmp: Any) -> None:
    """``param += alpha * grad`` in place, a block at a time through the start of ``tmp``:
    only one block of scratch is ever written (resident), however large the parameter."""
    size = param.size
    if size <= _BLOCK or not param.flags.c_contiguous:
        np.multiply(grad, alpha, out=tmp)
        np.add(param, tmp, out=param)
        return
    flat, g, t = param.reshape(-1), grad.reshape(-1), tmp.reshape(-1)
    for start in range(0, size, _BLOCK):
        stop = min(start + _BLOCK, size)
        block = t[:stop - start]
        np.multiply(g[start:stop], alpha, out=block)
        np.add(flat[start:stop], block, out=flat[start:stop])


class SGD(Optimizer):
    """``p -= lr * g`` where ``g`` is the gradient (plus ``weight_decay * p``), or, with momentum,
    the running ``buf = momentum * buf + (1 - dampening) * g`` (Nesterov: ``g + momentum * buf``).

    >>> opt = chainrule.optim.SGD(params, lr=0.1, momentum=0.9)
    """

    def __init__(self, params: Any, lr: Any = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        self._check_not_differentiable(differentiable)
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
            "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
            "differentiable": differentiable, "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._setdefault_groups(nesterov=False, maximize=False, foreach=None, differentiable=False,
                                fused=False)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        scratch = self._scratch
        for group in self.param_groups:
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                param = p._data
                grad = p._grad._data
                work, tmp = scratch(param)
                # PyTorch's _single_tensor_sgd, op for op, into reusable buffers.
                grad = _decayed_grad(param, grad, maximize, weight_decay, work, tmp)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        state["momentum_buffer"] = _make(grad.copy())
                    else:
                        buf = buf._data
                        np.multiply(buf, momentum, out=buf)
                        if dampening != 0:
                            np.multiply(grad, 1 - dampening, out=tmp)
                            np.add(buf, tmp, out=buf)
                        else:
                            np.add(buf, grad, out=buf)
                    buf = state["momentum_buffer"]._data
                    if nesterov:
                        np.multiply(buf, momentum, out=tmp)
                        grad = np.add(grad, tmp, out=work)
                    else:
                        grad = buf
                _add_scaled(param, grad, -lr, tmp)
                _bump(p, "SGD.step")
        return loss
