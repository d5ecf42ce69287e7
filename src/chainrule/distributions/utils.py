"""Helpers of the distributions: parameters broadcast to one shape, probabilities and logits."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import creation
from .. import functional as F
from ..dtypes import finfo, get_default_dtype
from ..nn import functional as NF
from ..autograd.grad_mode import enable_grad
from ..tensor import Size, Tensor


def broadcast_all(*values: Any) -> list[Tensor]:
    """Tensors (numbers become tensors of the others' dtype, or the default dtype) broadcast
    to one shape, as PyTorch's ``broadcast_all``."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    dtype = tensors[0].dtype if tensors else get_default_dtype()
    as_tensors = [v if isinstance(v, Tensor) else creation.tensor(float(v), dtype=dtype) for v in values]
    return list(F.broadcast_tensors(*as_tensors))


def clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities kept in [eps, 1 - eps] (PyTorch's, for logs that stay finite)."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


class lazy_property:
    """A property computed on first read and then kept as an instance attribute (PyTorch's
    ``lazy_property``: a distribution given ``probs`` has no ``logits`` in its ``__dict__``
    until they are asked for, which shows in its repr and in what ``expand`` carries)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return self
        with enable_grad():  # (PyTorch's: a value first read under no_grad still records its graph)
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class BinaryParameters:
    """``probs`` and ``logits`` of a distribution over {0, 1} (Bernoulli, Geometric, the relaxed
    Bernoulli, the count distributions): the one given is set, the other computed when first read."""

    _param: Tensor

    def _set_binary_parameters(self, probs: Any, logits: Any) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        (self._param,) = broadcast_all(probs if probs is not None else logits)
        setattr(self, "probs" if probs is not None else "logits", self._param)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        return self._param.size()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    if is_binary:
        return logits.sigmoid()
    return F.softmax(logits, dim=-1)


def _tril_positions(n: int, diag: int) -> np.ndarray:
    """Row-major flat positions of an n x n matrix's entries on and below diagonal ``diag``."""
    rows, cols = np.divmod(np.arange(n * n), n)
    return np.flatnonzero(cols < rows + (diag + 1))


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """Vectors laid in row order into the lower triangle (from diagonal ``diag``) of D x D
    matrices (PyTorch's ``distributions.utils.vec_to_tril_matrix``)."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as the lower "
                         "triangular part of a square D x D matrix.")
    n = round(n)
    source = np.zeros(n * n, dtype=np.int64)  # 0 picks the zero padded in front of the vector
    source[_tril_positions(n, diag)] = np.arange(1, vec.shape[-1] + 1)
    padded = NF.pad(vec, [1, 0], value=0.0)
    return padded[..., creation.tensor(source)].reshape(tuple(vec.shape[:-1]) + (n, n))


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower triangle (from diagonal ``diag``) of square matrices in row order."""
    n = mat.shape[-1]
    flat = mat.reshape(tuple(mat.shape[:-2]) + (n * n,))
    return flat[..., creation.tensor(_tril_positions(n, diag))]
