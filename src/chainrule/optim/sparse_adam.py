"""SparseAdam: Adam's update of only the rows a gradient touches (an ``nn.Embedding(...,
sparse=True)``'s looked-up rows), as PyTorch's ``torch.optim.SparseAdam``.

chainrule's gradients are dense: the rows a step updates are the rows (along the first dim)
where the gradient has a nonzero value, which are the looked-up rows unless a looked-up row's
gradient is exactly zero.  (PyTorch refuses dense gradients; here every parameter is
updated this way.)
"""
from __future__ import annotations

import math
from typing import Any, Callable

from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_betas, _check_nonnegative

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """For the touched rows ``r`` only: ``m[r] += (1 - beta1) (g[r] - m[r])``,
    ``v[r] += (1 - beta2) (g[r]^2 - v[r])``,
    ``p[r] -= lr sqrt(1 - beta2^t) / (1 - beta1^t) * m[r] / (sqrt(v[r]) + eps)``.

    >>> emb = chainrule.nn.Embedding(1000, 16, sparse=True)
    >>> opt = chainrule.optim.SparseAdam(emb.parameters(), lr=1e-3)
    """

    _group_option_defaults = {"maximize": False}

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        _check_nonnegative(lr=lr, eps=eps)
        _check_betas(betas)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "maximize": maximize})
        for index, group in enumerate(self.param_groups):
            complex_params = [[index, i] for i, p in enumerate(group["params"]) if p.is_complex()]
            if complex_params:
                raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not support complex "
                                 "parameters")

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = -param.grad if group["maximize"] else param.grad
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = param.detach().new_zeros(param.shape)
                    state["exp_avg_sq"] = param.detach().new_zeros(param.shape)
                state["step"] += 1
                rows = (grad.reshape(grad.shape[0], -1) != 0).any(1).nonzero().squeeze(1) if grad.dim() else None
                values = grad[rows] if rows is not None else grad
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                # PyTorch's _sparse_adam, op for op, on the touched rows' values.
                old_exp_avg = exp_avg[rows] if rows is not None else exp_avg.clone()
                exp_avg_update = (values - old_exp_avg).mul_(1 - beta1)
                old_exp_avg_sq = exp_avg_sq[rows] if rows is not None else exp_avg_sq.clone()
                exp_avg_sq_update = values.pow(2).sub_(old_exp_avg_sq).mul_(1 - beta2)
                numer = exp_avg_update + old_exp_avg
                denom = (exp_avg_sq_update + old_exp_avg_sq).sqrt_().add_(eps)
                step = state["step"]
                step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
                change = -step_size * numer.div_(denom)
                if rows is None:
                    exp_avg.add_(exp_avg_update)
                    exp_avg_sq.add_(exp_avg_sq_update)
                    param.add_(change)
                else:
                    exp_avg.index_add_(0, rows, exp_avg_update)
                    exp_avg_sq.index_add_(0, rows, exp_avg_sq_update)
                    param.index_add_(0, rows, change)
        return loss
