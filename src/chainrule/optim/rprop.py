"""Rprop: resilient backpropagation, a step size per element that grows while the gradient
keeps its sign and shrinks when it flips (only the sign of the gradient is used), as PyTorch's
``torch.optim.Rprop``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor, _make
from .optimizer import Optimizer, _check_nonnegative, _count_step, _step_counter, _zeros_like

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Per element: ``step *= etaplus`` (sign kept) or ``etaminus`` (sign flipped, that step
    skipped), clamped to ``step_sizes``; ``p -= sign(g) * step``.

    >>> opt = chainrule.optim.Rprop(params, lr=0.01)
    """

    _group_option_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params: Any, lr: Any = 1e-2, etas: tuple = (0.5, 1.2), step_sizes: tuple = (1e-6, 50), *,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_nonnegative(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        self._check_not_differentiable(differentiable)
        defaults = {"lr": lr, "etas": tuple(etas), "step_sizes": tuple(step_sizes), "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, state: dict, p: Tensor, group: dict[str, Any]) -> None:
        state["step"] = _step_counter()
        state["prev"] = _zeros_like(p._data)
        state["step_size"] = _make(get_array_module(p._data).full(p._data.shape, float(group["lr"]),
                                                                  dtype=p._data.dtype))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = (float(e) for e in group["etas"])
            smallest, largest = (float(s) for s in group["step_sizes"])
            maximize = group["maximize"]
            for param, grad, states, work, tmp, _ in self._pieces(group, _STATE, _count_step, "Rprop.step"):
                prev, step_size = states
                # PyTorch's _single_tensor_rprop, op for op, into reusable buffers.
                grad = np.negative(grad, out=work) if maximize else grad
                sign = np.sign(np.multiply(grad, prev, out=tmp), out=tmp)
                factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0)).astype(param.dtype)
                np.multiply(step_size, factor, out=step_size)
                np.clip(step_size, smallest, largest, out=step_size)
                # The gradient of an element whose sign flipped counts as 0: no step, and no flip next time.
                kept = np.where(factor == etaminus, 0, grad).astype(param.dtype, copy=False)
                np.multiply(np.sign(kept, out=tmp), step_size, out=tmp)
                np.subtract(param, tmp, out=param)
                np.copyto(prev, kept)
        return loss


_STATE = ("prev", "step_size")
