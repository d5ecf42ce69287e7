"""``NegativeBinomial(total_count, probs | logits)``: failures before ``total_count`` successes
(a Gamma-Poisson mixture, drawn as PyTorch draws it: a Gamma rate, then a Poisson count)."""
from __future__ import annotations

from typing import Any

from .. import creation
from ..autograd.grad_mode import no_grad
from ..nn import functional as NF
from ..tensor import Size, Tensor
from . import constraints
from .binomial import CountParameters
from .distribution import Distribution
from .gamma import Gamma


class NegativeBinomial(CountParameters, Distribution):
    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._set_parameters(total_count, probs, logits)
        super().__init__(tuple(self._param.shape), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape: Any = Size()) -> Tensor:
        with no_grad():
            gamma = Gamma(concentration=self.total_count, rate=(-self.logits).exp(), validate_args=False)
            return creation.poisson(gamma.sample(sample_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        self._validate_sample(value)
        log_unnormalized_prob = self.total_count * NF.logsigmoid(-self.logits) + value * NF.logsigmoid(self.logits)
        log_normalization = -(self.total_count + value).lgamma() + (1.0 + value).lgamma() + self.total_count.lgamma()
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization
