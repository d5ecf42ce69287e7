"""``torch.distributions``: ``Normal``, ``Categorical``, ``OneHotCategorical`` (and its
straight-through form), ``Bernoulli``, ``ContinuousBernoulli``, ``Binomial``, ``NegativeBinomial``,
``Uniform``, ``MultivariateNormal``, ``LowRankMultivariateNormal``, ``Exponential``, ``Laplace``,
``Cauchy``, ``HalfCauchy``, ``Gumbel``, ``LogNormal``, ``HalfNormal``, ``Gamma``, ``InverseGamma``,
``Chi2``, ``Beta``, ``Kumaraswamy``, ``Dirichlet``, ``LogisticNormal``, ``StudentT``,
``FisherSnedecor``, ``Weibull``, ``Wishart``, ``LKJCholesky``, ``Pareto``, ``GeneralizedPareto``, ``VonMises``, ``Poisson``,
``Geometric``, ``Multinomial``, the relaxed (Gumbel-softmax) distributions, ``Independent``,
``MixtureSameFamily``, ``TransformedDistribution`` with its transforms, ``ExponentialFamily``,
``kl_divergence`` between them, the ``constraints`` and the constraint registry (``biject_to``,
``transform_to``).

Densities, entropies and divergences are PyTorch's formulas on chainrule's ops (so they
differentiate, and reparameterised samples do too: ``rsample``); samples draw PyTorch's numbers
from the generator (the same values as PyTorch after the same ``manual_seed``).  Arguments are
validated as PyTorch validates them by default, with its messages.
"""
from __future__ import annotations

from . import constraint_registry, constraints, kl_added, kl_cross, transforms
# PyTorch's module names for distributions chainrule defines beside others (under the torch
# alias, ``from torch.distributions.beta import Beta`` reads these).
from . import (
    exponential as laplace, gamma as beta, gamma as chi2, gamma as dirichlet, gamma as studentT, poisson as geometric,
    relaxed as multinomial, relaxed as relaxed_bernoulli, relaxed as relaxed_categorical,
    transformed_distribution as gumbel, transformed_distribution as half_normal, transformed_distribution as log_normal,
)
from .bernoulli import Bernoulli
from .binomial import Binomial
from .categorical import Categorical
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .cauchy import Cauchy
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential, Laplace
from .fishersnedecor import FisherSnedecor
from .gamma import Beta, Chi2, Dirichlet, Gamma, StudentT
from .generalized_pareto import GeneralizedPareto
from .half_cauchy import HalfCauchy
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kl import kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .lkj_cholesky import LKJCholesky
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
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
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "CatTransform", "Categorical",
           "Cauchy", "Chi2", "ComposeTransform", "ContinuousBernoulli", "CorrCholeskyTransform",
           "CumulativeDistributionTransform", "Dirichlet", "Distribution", "ExpRelaxedCategorical", "ExpTransform",
           "Exponential", "ExponentialFamily", "FisherSnedecor", "Gamma", "GeneralizedPareto", "Geometric", "Gumbel",
           "HalfCauchy", "HalfNormal", "Independent", "IndependentTransform", "InverseGamma", "Kumaraswamy", "LKJCholesky",
           "Laplace", "LogNormal", "LogisticNormal", "LogitRelaxedBernoulli", "LowRankMultivariateNormal",
           "LowerCholeskyTransform", "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial",
           "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto", "Poisson",
           "PositiveDefiniteTransform", "PowerTransform", "RelaxedBernoulli", "RelaxedOneHotCategorical",
           "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform", "SoftplusTransform", "StackTransform",
           "StickBreakingTransform", "StudentT", "TanhTransform", "Transform", "TransformedDistribution", "Uniform",
           "VonMises", "Weibull", "Wishart", "biject_to", "kl_divergence", "register_kl", "transform_to"]
