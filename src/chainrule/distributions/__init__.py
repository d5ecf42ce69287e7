"""``torch.distributions``: ``Normal``, ``Categorical``, ``OneHotCategorical``, ``Bernoulli``,
``Uniform``, ``MultivariateNormal``, ``Exponential``, ``Laplace``, ``Cauchy``, ``Gumbel``,
``LogNormal``, ``HalfNormal``, ``Gamma``, ``Chi2``, ``Beta``, ``Dirichlet``, ``StudentT``,
``Poisson``, ``Geometric``, ``Multinomial``, the relaxed (Gumbel-softmax) distributions,
``Independent``, ``MixtureSameFamily``, ``TransformedDistribution``
with its transforms, and ``kl_divergence`` between them.

Densities, entropies and divergences are PyTorch's formulas on chainrule's ops (so they
differentiate, and reparameterised samples do too: ``rsample``); samples draw PyTorch's numbers
from the generator (the same values as PyTorch after the same ``manual_seed``).  Arguments are
validated as PyTorch validates them by default, with its messages.
"""
from __future__ import annotations

from . import constraint_registry, constraints, transforms
from .bernoulli import Bernoulli
from .categorical import Categorical
from .constraint_registry import biject_to, transform_to
from .cauchy import Cauchy
from .distribution import Distribution
from .exponential import Exponential, Laplace
from .gamma import Beta, Chi2, Dirichlet, Gamma, StudentT
from .independent import Independent
from .kl import kl_divergence, register_kl
from .mixture_same_family import MixtureSameFamily
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Geometric, Poisson
from .relaxed import (
    ExpRelaxedCategorical, LogitRelaxedBernoulli, Multinomial, RelaxedBernoulli, RelaxedOneHotCategorical,
)
from .transformed_distribution import Gumbel, HalfNormal, LogNormal, TransformedDistribution
from .transforms import (
    AbsTransform, AffineTransform, CatTransform, ComposeTransform, CorrCholeskyTransform,
    CumulativeDistributionTransform, ExpTransform, IndependentTransform, LowerCholeskyTransform,
    PositiveDefiniteTransform, PowerTransform, ReshapeTransform, SigmoidTransform, SoftmaxTransform, SoftplusTransform,
    StackTransform, StickBreakingTransform, TanhTransform, Transform,
)
from .uniform import Uniform

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Categorical", "Cauchy", "Chi2", "ComposeTransform",
           "Dirichlet", "Distribution", "ExpTransform", "Exponential", "Gamma", "Geometric", "Gumbel", "HalfNormal",
           "ExpRelaxedCategorical", "Independent", "Laplace", "LogNormal", "LogitRelaxedBernoulli", "MixtureSameFamily",
           "Multinomial", "MultivariateNormal", "Normal", "RelaxedBernoulli", "RelaxedOneHotCategorical",
           "OneHotCategorical", "Poisson", "PowerTransform", "SigmoidTransform", "SoftplusTransform", "StudentT",
           "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "kl_divergence", "register_kl"]
