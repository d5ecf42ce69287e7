"""Adagrad: per-coordinate step sizes from the running sum of squared gradients, with an
optional learning-rate decay, as PyTorch's ``torch.optim.Adagrad``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor, _make
from .optimizer import Optimizer, _bump, _real, _step_counter

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``sum += g^2``; ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)``.

    >>> opt = chainrule.optim.Adagrad(params, lr=1e-2)
    """

    def __init__(self, params: Any, lr: Any = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        self._check_not_differentiable(differentiable)
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "fused": fused,
        }
        super().__init__(params, defaults)
        # As PyTorch, the accumulators of the initial parameters exist from the start.
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p, initial_accumulator_value)

    @staticmethod
    def _init_state(state: dict, p: Tensor, initial_value: float) -> None:
        state["step"] = _step_counter()
        data = p._data
        value = complex(initial_value, initial_value) if data.dtype.kind == "c" else initial_value
        state["sum"] = _make(get_array_module(data).full(data.shape, value, dtype=data.dtype), None, False)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        scratch = self._scratch
        for group in self.param_groups:
            lr = float(group["lr"])
            lr_decay = float(group["lr_decay"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(state, p, self.defaults["initial_accumulator_value"])
                param = _real(p._data)
                grad = _real(p.grad._data)
                state_sum = _real(state["sum"]._data)
                work, tmp = scratch(param)
                # PyTorch's _single_tensor_adagrad, op for op, into reusable buffers.
                step_t = state["step"]._data
                step_t += 1
                step = step_t.item()
                if maximize:
                    grad = np.negative(grad, out=work)
                if weight_decay != 0:
                    np.multiply(param, weight_decay, out=tmp)
                    grad = np.add(grad, tmp, out=work)
                clr = lr / (1 + (step - 1) * lr_decay)
                np.multiply(grad, grad, out=tmp)
                np.add(state_sum, tmp, out=state_sum)
                std = np.sqrt(state_sum, out=tmp)
                np.add(std, eps, out=std)
                np.multiply(grad, -clr, out=work)
                np.divide(work, std, out=work)
                np.add(param, work, out=param)
                _bump(p, "Adagrad.step")
        return loss
