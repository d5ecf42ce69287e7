"""SparseAdam: Adam for sparse gradients (``nn.Embedding(sparse=True)``'s): only the rows a
gradient has are read and written, moments included, as PyTorch's ``torch.optim.SparseAdam``."""
from __future__ import annotations

import math
from typing import Any, Callable

from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, _bump, _zeros_like

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Adam's update at the positions of a sparse gradient only: ``m`` and ``v`` of the other
    positions are left as they are (not decayed), the step counter counts every step.

    >>> emb = chainrule.nn.Embedding(1000, 16, sparse=True)
    >>> opt = chainrule.optim.SparseAdam(emb.parameters(), lr=1e-3)
    """

    _group_option_defaults = {"maximize": False}
    _tensor_step = False  # PyTorch keeps SparseAdam's step a Python int

    def __init__(self, params: Any, lr: Any = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for index in range(2):
            if not 0.0 <= betas[index] < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {betas[index]}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize})
        for kind, refused in (("Sparse", "SparseAdam requires dense parameter tensors"),
                              ("Complex", "SparseAdam does not support complex parameters")):
            found = [[g, i] for g, group in enumerate(self.param_groups) for i, p in enumerate(group["params"])
                     if (p.is_sparse if kind == "Sparse" else p.is_complex())]
            if found:
                raise ValueError(f"{kind} params at indices {found}: {refused}")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, eps = float(group["lr"]), float(group["eps"])
            beta1, beta2 = (float(b) for b in group["betas"])
            maximize = group.get("maximize", False)
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if not grad.is_sparse:
                    raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = _zeros_like(p._data)
                    state["exp_avg_sq"] = _zeros_like(p._data)
                state["step"] += 1
                _bump(p, "SparseAdam.step")
                grad = grad.coalesce()  # the update is not linear: each position once
                values = grad._values()._data
                if values.size == 0:
                    continue
                where = tuple(grad._indices()._data)
                if maximize:
                    values = -values
                _sparse_adam_update(p._data, where, values, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                                    state["step"], lr, beta1, beta2, eps)
        return loss


def _sparse_adam_update(param: Any, where: tuple, grad: Any, exp_avg: Any, exp_avg_sq: Any, step: int,
                        lr: float, beta1: float, beta2: float, eps: float) -> None:
    """PyTorch's ``sparse_adam`` for one parameter, at the (unique) positions ``where``."""
    old_exp_avg = exp_avg[where]
    exp_avg_update = (grad - old_exp_avg) * (1 - beta1)
    exp_avg[where] += exp_avg_update
    old_exp_avg_sq = exp_avg_sq[where]
    exp_avg_sq_update = (grad * grad - old_exp_avg_sq) * (1 - beta2)
    exp_avg_sq[where] += exp_avg_sq_update
    numer = exp_avg_update + old_exp_avg
    denom = get_array_module(param).sqrt(exp_avg_sq_update + old_exp_avg_sq) + eps
    step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    param[where] += -step_size * (numer / denom)
