"""``torch.distributions``, the part that training code reaches for: ``Normal``,
``Categorical``, ``Bernoulli``, ``Uniform``, ``MultivariateNormal``, ``Independent`` and
``kl_divergence`` between them.

Densities, entropies and divergences are PyTorch's formulas on chainrule's ops (so they
differentiate, and reparameterised samples do too: ``rsample``); samples come from chainrule's
generator (reproducible with ``manual_seed``, but not PyTorch's values).  Arguments are
validated as PyTorch validates them by default, with its messages.
"""
from __future__ import annotations

from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "MultivariateNormal", "Normal", "Uniform",
           "kl_divergence", "register_kl"]
