"""Gradient clipping, in place on the gradient arrays."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ...tensor import Tensor


def _grads(parameters: Any) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(array: np.ndarray, norm_type: float) -> Any:
    flat = np.abs(array.reshape(-1))
    if norm_type == math.inf:
        return flat.max() if flat.size else np.zeros((), dtype=array.dtype)
    if norm_type == -math.inf:
        return flat.min() if flat.size else np.full((), math.inf, dtype=array.dtype)
    if norm_type == 0:
        return np.asarray(np.count_nonzero(flat), dtype=array.dtype)
    if norm_type == 2:
        return np.sqrt(np.dot(flat, flat))
    if norm_type == 1:
        return flat.sum()
    return (flat ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: Any = None) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type`` norm is at most
    ``max_norm``; returns that norm (before clipping) as a tensor."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    total_norm = get_total_norm(_grads(parameters), float(norm_type), error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grads_with_norm_(parameters: Any, max_norm: float, total_norm: Tensor, foreach: Any = None) -> None:
    """Scale all gradients by ``max_norm / (total_norm + 1e-6)`` (at most 1): ``clip_grad_norm_``
    with a norm computed beforehand (by :func:`get_total_norm`)."""
    grads = _grads(parameters)
    if not grads:
        return
    total = total_norm._data
    coef = np.minimum(float(max_norm) / (total + 1e-6), 1.0).astype(total.dtype)
    with np.errstate(invalid="ignore"):  # a non-finite norm scales by nan, as in PyTorch
        for g in grads:
            g._data *= coef
            g._version_counter().bump("mul_")


def clip_grad_norm(parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: Any = None) -> Tensor:
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Any, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g._data, -clip_value, clip_value, out=g._data)
        g._version_counter().bump("clamp_")


def get_total_norm(tensors: Iterable[Tensor], norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: Any = None) -> Tensor:
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not tensors:
        return Tensor._wrap(np.zeros((), dtype=np.float32))
    norm_type = float(norm_type)
    norms = np.stack([np.asarray(_vector_norm(t._data, norm_type)) for t in tensors])
    total = np.asarray(_vector_norm(norms, norm_type), dtype=tensors[0]._data.dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._wrap(total)
