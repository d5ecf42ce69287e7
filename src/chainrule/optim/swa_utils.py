"""Stochastic weight averaging, as ``torch.optim.swa_utils``: ``AveragedModel`` (a running
average, or an exponential moving average, of a model's weights), ``SWALR`` (the learning
rate annealed to a constant SWA rate) and ``update_bn`` (batch-norm statistics recomputed for
the averaged weights)."""
from __future__ import annotations

import copy
import itertools
import math
from typing import Any, Callable, Iterable

from ..creation import tensor
from ..dtypes import int64
from ..nn.batchnorm import _BatchNorm
from ..nn.module import Module
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _format_param, _warn_get_lr_called_within_step
from .optimizer import Optimizer

__all__ = ["AveragedModel", "SWALR", "get_ema_avg_fn", "get_ema_multi_avg_fn", "get_swa_avg_fn",
           "get_swa_multi_avg_fn", "update_bn"]


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """Every averaged tensor moved ``1 - decay`` of the way to the model's (an in-place lerp)."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")

    def ema_update(ema_params: list, current_params: list, num_averaged: Any) -> None:
        for ema, current in zip(ema_params, current_params):
            if ema.is_floating_point() or ema.is_complex():
                ema.lerp_(current, 1 - decay)
            else:  # (lerp has no integer kernel: PyTorch's own update for integer buffers)
                ema.copy_(ema * decay + current * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """Every averaged tensor moved ``1 / (n + 1)`` of the way to the model's: the running mean."""

    def swa_update(averaged_params: list, current_params: list, num_averaged: Any) -> None:
        for averaged, current in zip(averaged_params, current_params):
            if averaged.is_floating_point():
                averaged.lerp_(current, 1 / (num_averaged + 1))
            else:
                averaged.copy_(averaged + (current - averaged) // (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """``decay * averaged + (1 - decay) * current``, one tensor at a time."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable:
    """The running mean, one tensor at a time: ``averaged + (current - averaged) / (n + 1)``."""

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` (``.module``) whose parameters (and, with ``use_buffers``, buffers)
    ``update_parameters(model)`` averages: the first call copies them, later ones apply
    ``avg_fn`` per tensor or ``multi_avg_fn`` per list (the running mean by default).
    ``n_averaged`` counts the updates and is saved in the state_dict."""

    def __init__(self, model: Module, device: Any = None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average."""
        averaged = (itertools.chain(self.module.parameters(), self.module.buffers()) if self.use_buffers
                    else self.parameters())
        current = itertools.chain(model.parameters(), model.buffers()) if self.use_buffers else model.parameters()
        averaged_list, current_list = [], []
        for p_averaged, p_model in zip(averaged, current):
            p_model = p_model.detach().to(p_averaged.device)
            averaged_list.append(p_averaged.detach())
            current_list.append(p_model)
            if int(self.n_averaged) == 0:
                p_averaged.detach().copy_(p_model)
        if int(self.n_averaged) > 0:
            if self.avg_fn is not None:
                for p_averaged, p_model in zip(averaged_list, current_list):
                    p_averaged.copy_(self.avg_fn(p_averaged, p_model, self.n_averaged.to(p_averaged.device)))
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn(averaged_list, current_list, self.n_averaged)
            else:  # PyTorch's CPU path: the running mean one tensor at a time
                mean = get_swa_avg_fn()
                for p_averaged, p_model in zip(averaged_list, current_list):
                    p_averaged.copy_(mean(p_averaged, p_model, self.n_averaged.to(p_averaged.device)))
        if not self.use_buffers:  # buffers not averaged follow the model's
            for b_averaged, b_model in zip(self.module.buffers(), model.buffers()):
                b_averaged.detach().copy_(b_model.detach().to(b_averaged.device))
        self.n_averaged += 1


def update_bn(loader: Iterable, model: Module, device: Any = None) -> None:
    """One pass over ``loader`` in train mode with every batch norm's running statistics reset
    and averaged over the pass (momentum None): the statistics of the averaged weights."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's learning rate to ``swa_lr`` over ``anneal_epochs`` steps (cosine or
    linear), then holds it there."""

    def __init__(self, optimizer: Optimizer, swa_lr: Any, anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        for swa, group in zip(_format_param("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = swa
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        _warn_get_lr_called_within_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # The rate the schedule would have started from, recovered from the current one: other
        # schedulers (or the user) may have changed it since.
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(self.optimizer.param_groups, prev_lrs)]
