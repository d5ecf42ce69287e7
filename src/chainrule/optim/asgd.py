"""ASGD: averaged stochastic gradient descent (Polyak-Ruppert averaging, with the decaying
step size of Bottou), as PyTorch's ``torch.optim.ASGD``: the parameters follow SGD, ``ax``
keeps their running average."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor, _make
from .optimizer import Optimizer, _check_nonnegative, _count_step, _decayed_grad, _scalar_dtype, _zeros_like

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """``p *= 1 - lambd eta``, ``p -= eta g``, ``ax += mu (p - ax)``; then
    ``eta = lr / (1 + lambd lr t)^alpha`` and ``mu = 1 / max(1, t - t0)``.

    >>> opt = chainrule.optim.ASGD(params, lr=0.01)
    """

    _group_option_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params: Any, lr: Any = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_nonnegative(lr=lr, weight_decay=weight_decay)
        self._check_not_differentiable(differentiable)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, state: dict, p: Tensor, group: dict[str, Any]) -> None:
        # The step count, eta and mu live where the parameter does, as PyTorch keeps them.
        xp = get_array_module(p._data)
        state["step"] = _make(xp.zeros((), dtype=_scalar_dtype()))
        state["eta"] = _make(xp.asarray(float(group["lr"]), dtype=_scalar_dtype()))
        state["mu"] = _make(xp.ones((), dtype=_scalar_dtype()))
        state["ax"] = _zeros_like(p._data)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = (float(group[k]) for k in ("lr", "lambd", "alpha", "t0"))
            weight_decay = float(group["weight_decay"])
            maximize = group["maximize"]

            def schedule(state: dict) -> tuple:
                """Count the step; this step's eta and mu, the next step's written into the state."""
                step = _count_step(state)
                eta, mu = state["eta"]._data, state["mu"]._data
                values = (step, eta.item(), mu.item())
                # (as PyTorch's torch.as_tensor of a number: in the default dtype, then stored)
                rounding = _scalar_dtype().type
                eta[...] = rounding(lr / ((1 + lambd * lr * step) ** alpha))
                mu[...] = rounding(1 / max(1, step - t0))
                return values

            for param, grad, states, work, tmp, (step, eta, mu) in self._pieces(group, _STATE, schedule,
                                                                                 "ASGD.step"):
                (ax,) = states
                # PyTorch's _single_tensor_asgd, op for op, into reusable buffers.
                grad = _decayed_grad(param, grad, maximize, weight_decay, work, tmp)
                np.multiply(param, 1 - lambd * eta, out=param)
                np.multiply(grad, -eta, out=tmp)
                np.add(param, tmp, out=param)
                if mu != 1:
                    np.subtract(param, ax, out=tmp)
                    np.multiply(tmp, mu, out=tmp)
                    np.add(ax, tmp, out=ax)
                else:
                    np.copyto(ax, param)
        return loss


_STATE = ("ax",)
