"""``LKJCholesky(dim, concentration)``: the LKJ distribution over Cholesky factors of
correlation matrices, sampled by PyTorch's onion method (Beta radii, normal directions)."""
from __future__ import annotations

import math
from typing import Any

from .. import creation
from .. import functional as F
from ..composites import mvlgamma
from ..dtypes import finfo
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .gamma import Beta
from .utils import broadcast_all


class LKJCholesky(Distribution):
    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Any = 1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = creation.arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = F.cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal_conc.unsqueeze(-1) - 0.5 * offset)
        super().__init__(tuple(self.concentration.shape), (dim, dim), validate_args)

    def sample(self, sample_shape: Any = Size()) -> Tensor:
        y = self._beta.sample(sample_shape).unsqueeze(-1)
        u_normal = creation.randn(*self._extended_shape(sample_shape), dtype=y.dtype).tril(-1)
        tiny = finfo(y.dtype).tiny
        # (the first row is all zeros: PyTorch divides 0 by 0 there and then fills in 0)
        u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True).clamp(min=tiny)
        w = y.sqrt() * u_hypersphere
        diag_elems = (1 - (w ** 2).sum(-1)).clamp(min=tiny).sqrt()
        return w + diag_elems.diag_embed()

    def log_prob(self, value: Tensor) -> Tensor:
        self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = creation.arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = (order * diag_elems.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalize_term = 0.5 * dm1 * math.log(math.pi) + mvlgamma(alpha - 0.5, dm1) - alpha.lgamma() * dm1
        return unnormalized_log_pdf - normalize_term
