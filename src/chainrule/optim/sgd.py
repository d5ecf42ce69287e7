"""SGD: stochastic gradient descent with optional momentum (heavy-ball or Nesterov), dampening,
L2 weight decay and maximization, step for step as PyTorch's ``torch.optim.SGD``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .optimizer import Optimizer, _decayed_grad, _zeros_like

__all__ = ["SGD"]

_MOMENTUM = ("momentum_buffer",)


class SGD(Optimizer):
    """``p -= lr * g`` where ``g`` is the gradient (plus ``weight_decay * p``), or, with momentum,
    the running ``buf = momentum * buf + (1 - dampening) * g`` (Nesterov: ``g + momentum * buf``).

    >>> opt = chainrule.optim.SGD(params, lr=0.1, momentum=0.9)
    """

    _group_option_defaults = {"nesterov": False, "maximize": False, "foreach": None, "differentiable": False,
                              "fused": False}

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
        self._check_fused(foreach, fused)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            names, first = (), None
            if momentum != 0:
                names, fresh = _MOMENTUM, self._new_buffers(group)
                first = (lambda state: id(state) in fresh) if fresh else None
            # Without momentum the update is two passes: too short to pay for gathering.
            pieces = self._pieces(group, names, first, "SGD.step", as_real=False, gather=momentum != 0)
            for param, grad, states, work, tmp, new in pieces:
                # PyTorch's _single_tensor_sgd, op for op, into reusable buffers.
                grad = _decayed_grad(param, grad, maximize, weight_decay, work, tmp)
                if momentum != 0:
                    buf = states[0]
                    if new:  # the first step: the buffer is a copy of the gradient
                        np.copyto(buf, grad)
                    else:
                        np.multiply(buf, momentum, out=buf)
                        if dampening != 0:
                            np.multiply(grad, 1 - dampening, out=tmp)
                            np.add(buf, tmp, out=buf)
                        else:
                            np.add(buf, grad, out=buf)
                    if nesterov:
                        np.multiply(buf, momentum, out=tmp)
                        grad = np.add(grad, tmp, out=work)
                    else:
                        grad = buf
                np.multiply(grad, -lr, out=tmp)
                np.add(param, tmp, out=param)
        return loss

    _sparse_refusal = None

    def _check_sparse_options(self, group: dict[str, Any]) -> None:
        if group["weight_decay"] != 0:  # (PyTorch adds the decay to the sparse gradient: refused)
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")

    def _new_buffers(self, group: dict[str, Any]) -> set:
        """Momentum buffers for the parameters with a gradient that have none yet (filled by
        their first update); the ids of their states."""
        fresh = set()
        for p in group["params"]:
            if p._grad is not None:
                state = self.state[p]
                if state.get("momentum_buffer") is None:
                    state["momentum_buffer"] = _zeros_like(p._data)
                    fresh.add(id(state))
        return fresh
