"""``chainrule.special``: ``torch.special``'s names for the functions chainrule computes
(most are the functional forms under another name: ``expit`` is ``sigmoid``)."""
from __future__ import annotations

from typing import Any

from . import functional as F
from .composites import digamma, igamma, igammac, lgamma, mvlgamma, polygamma, sinc
from .dtypes import get_default_dtype
from .ops.elementwise import Entr
from .tensor import Tensor

__all__ = ["digamma", "entr", "erf", "erfc", "erfinv", "ndtr", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln", "log1p", "log_softmax", "logit", "logsumexp",
           "multigammaln", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy"]

erf = F.erf
erfc = F.erfc
erfinv = F.erfinv
exp2 = F.exp2
expit = F.sigmoid
expm1 = F.expm1
log1p = F.log1p
logit = F.logit
logsumexp = F.logsumexp
round = F.round
xlogy = F.xlogy
gammaln = lgamma
psi = digamma
gammainc = igamma
gammaincc = igammac
multigammaln = mvlgamma


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``."""
    return F.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed without forming the softmax."""
    return F.log_softmax(input, dim, dtype=dtype)


def xlog1py(input: Tensor, other: Any) -> Tensor:
    """input * log1p(other), and 0 where input is 0 (unless other is NaN)."""
    other = other if isinstance(other, Tensor) else F._t(other)
    return F.xlogy(input, other + 1)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF, ``(1 + erf(x / sqrt(2))) / 2``, composed as PyTorch composes it."""
    if not input.is_floating_point():
        input = input.to(get_default_dtype())
    return (1 + F.erf(input * 0.7071067811865476)) * 0.5


def entr(input: Tensor) -> Tensor:
    """The elementwise entropy -x log(x): 0 at 0, -inf below; its derivative -(1 + log x)
    (inf at 0, NaN below, as PyTorch's)."""
    return Entr.apply(input if input.is_floating_point() else input.to(get_default_dtype()))
