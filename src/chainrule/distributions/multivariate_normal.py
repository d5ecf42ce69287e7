"""``MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril)``: PyTorch's
density, entropy and reparameterised sampler, all through the lower Cholesky factor."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import creation
from .. import linalg
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution


def _mahalanobis(scale_tril: Tensor, difference: Tensor) -> Tensor:
    """``|L^-1 d|^2`` over the last dim, batch dims broadcast."""
    solved = linalg.solve(scale_tril, difference.unsqueeze(-1))
    return solved.squeeze(-1).pow(2).sum(-1)


def _precision_to_scale_tril(precision: Tensor) -> Tensor:
    """The lower Cholesky factor of ``precision^-1``, without inverting ``precision`` (PyTorch's)."""
    flipped = linalg.cholesky(precision.flip((-2, -1)))
    inverse_factor = flipped.flip((-2, -1)).mT
    identity = creation.eye(precision.shape[-1], dtype=precision.dtype)
    return linalg.solve(inverse_factor, identity)


def scale_tril_of(scale_tril: Tensor | None, covariance_matrix: Tensor | None,
                  precision_matrix: Tensor | None) -> Tensor:
    """The lower Cholesky factor of the covariance, from whichever of the three was given."""
    if scale_tril is not None:
        return scale_tril
    if covariance_matrix is not None:
        return linalg.cholesky(covariance_matrix)
    return _precision_to_scale_tril(precision_matrix)


class MultivariateNormal(Distribution):
    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None, precision_matrix: Tensor | None = None,
                 scale_tril: Tensor | None = None, validate_args: bool | None = None) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        given = {"scale_tril": scale_tril, "covariance_matrix": covariance_matrix,
                 "precision_matrix": precision_matrix}
        name, matrix = next((k, v) for k, v in given.items() if v is not None)
        if matrix.dim() < 2:
            label = "scale_tril matrix" if name == "scale_tril" else name  # (PyTorch's wording)
            raise ValueError(f"{label} must be at least two-dimensional, with optional leading batch dimensions")
        batch_shape = tuple(np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, tuple(self.loc.shape[-1:]), validate_args=validate_args)
        self._unbroadcasted_scale_tril = scale_tril_of(scale_tril, covariance_matrix, precision_matrix)

    def _full(self, matrix: Tensor) -> Tensor:
        """An unbroadcast (..., n, n) matrix expanded to the batch shape."""
        return matrix.expand(tuple(self._batch_shape) + tuple(matrix.shape[-2:]))

    @property
    def scale_tril(self) -> Tensor:  # type: ignore[override]
        if "scale_tril" in self.__dict__:
            return self.__dict__["scale_tril"]
        return self._full(self._unbroadcasted_scale_tril)

    @scale_tril.setter
    def scale_tril(self, value: Tensor) -> None:
        self.__dict__["scale_tril"] = value

    @property
    def covariance_matrix(self) -> Tensor:  # type: ignore[override]
        if "covariance_matrix" in self.__dict__:
            return self.__dict__["covariance_matrix"]
        factor = self._unbroadcasted_scale_tril
        return self._full(factor @ factor.mT)

    @covariance_matrix.setter
    def covariance_matrix(self, value: Tensor) -> None:
        self.__dict__["covariance_matrix"] = value

    @property
    def precision_matrix(self) -> Tensor:  # type: ignore[override]
        if "precision_matrix" in self.__dict__:
            return self.__dict__["precision_matrix"]
        return self._full(linalg.inv(self._unbroadcasted_scale_tril @ self._unbroadcasted_scale_tril.mT))

    @precision_matrix.setter
    def precision_matrix(self, value: Tensor) -> None:
        self.__dict__["precision_matrix"] = value

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape: Any = Size()) -> Tensor:
        """``loc + L eps``, eps standard normal: gradients reach loc and the covariance."""
        eps = creation.randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        self._validate_sample(value)
        distance = _mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + distance) - half_log_det

    def entropy(self) -> Tensor:
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        entropy = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        return entropy if len(self._batch_shape) == 0 else entropy.expand(tuple(self._batch_shape))
