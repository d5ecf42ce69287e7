"""Adagrad: per-coordinate step sizes from the running sum of squared gradients, with an
optional learning-rate decay, as PyTorch's ``torch.optim.Adagrad``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor, _make
from .optimizer import Optimizer, _check_nonnegative, _count_step, _decayed_grad, _step_counter

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``sum += g^2``; ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)``.

    >>> opt = chainrule.optim.Adagrad(params, lr=1e-2)
    """

    _group_option_defaults = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}

    def __init__(self, params: Any, lr: Any = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_nonnegative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, eps=eps)
        self._check_not_differentiable(differentiable)
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "fused": fused,
        }
        super().__init__(params, defaults)
        self._check_fused(foreach, fused)
        # As PyTorch, the accumulators of the initial parameters exist from the start.
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p, group)

    def _init_state(self, state: dict, p: Tensor, group: dict[str, Any]) -> None:
        # PyTorch fills the accumulators from the constructor's value, not the group's.
        initial_value = self.defaults["initial_accumulator_value"]
        state["step"] = _step_counter(group["fused"])
        data = p._data
        value = complex(initial_value, initial_value) if data.dtype.kind == "c" else initial_value
        state["sum"] = _make(get_array_module(data).full(data.shape, value, dtype=data.dtype))

    _sparse_refusal = None

    def _check_sparse_options(self, group: dict[str, Any]) -> None:
        if group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            lr_decay = float(group["lr_decay"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            maximize = group["maximize"]
            for param, grad, states, work, tmp, step in self._pieces(group, _STATE, _count_step, "Adagrad.step"):
                state_sum = states[0]
                # PyTorch's _single_tensor_adagrad, op for op, into reusable buffers.
                grad = _decayed_grad(param, grad, maximize, weight_decay, work, tmp)
                clr = lr / (1 + (step - 1) * lr_decay)
                np.multiply(grad, grad, out=tmp)
                np.add(state_sum, tmp, out=state_sum)
                std = np.sqrt(state_sum, out=tmp)
                np.add(std, eps, out=std)
                np.multiply(grad, -clr, out=work)
                np.divide(work, std, out=work)
                np.add(param, work, out=param)
        return loss


_STATE = ("sum",)
