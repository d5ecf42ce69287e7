"""``chainrule.special``: ``torch.special``'s names for the functions chainrule computes
(most are the functional forms under another name: ``expit`` is ``sigmoid``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from .composites import _floating, digamma, igamma, igammac, lgamma, mvlgamma, polygamma, sinc
from .dtypes import get_default_dtype
from .ops import bessel as B
from .ops import gamma as G
from .ops.polynomials import NAMES as _POLYNOMIAL_NAMES, OrthogonalPolynomial
from .ops.elementwise import Entr
from .tensor import Tensor

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "i0", "i0e", "i1", "i1e", "log_ndtr", "ndtr", "ndtri", "zeta", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln", "log1p", "log_softmax", "logit", "logsumexp",
           "multigammaln", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy"]

erf = F.erf
erfc = F.erfc
i0 = F.i0
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


def i0e(input: Tensor) -> Tensor:
    """``i0(x) exp(-|x|)``, finite where i0 overflows."""
    return B.I0e.apply(_floating(input))


def i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 1."""
    return B.I1.apply(_floating(input))


def i1e(input: Tensor) -> Tensor:
    """``i1(x) exp(-|x|)``, finite where i1 overflows."""
    return B.I1e.apply(_floating(input))


def erfcx(input: Tensor) -> Tensor:
    """The scaled complementary error function ``exp(x^2) erfc(x)``, finite for large x."""
    return B.Erfcx.apply(_floating(input))


def log_ndtr(input: Tensor) -> Tensor:
    """The log of the standard normal CDF, accurate far in both tails."""
    return B.LogNdtr.apply(_floating(input))


def ndtri(input: Tensor) -> Tensor:
    """The standard normal quantile: the x with ndtr(x) = p (-inf at 0, inf at 1)."""
    return B.Ndtri.apply(_floating(input))


def zeta(input: Any, other: Any) -> Tensor:
    """The Hurwitz zeta function ``sum_k (k + other)^-input`` (the Riemann zeta at other = 1);
    either argument may be a number."""
    x = input if isinstance(input, Tensor) else F._t(float(input))
    q = other if isinstance(other, Tensor) else F._t(float(other))
    if x.dtype != q.dtype and not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        x, q = (x, q.to(x.dtype)) if isinstance(input, Tensor) else (x.to(q.dtype), q)
    return G.Zeta.apply(_floating(x), _floating(q))


def _polynomial(name: str) -> Any:
    def polynomial(input: Any, n: Any) -> Tensor:
        x = input if isinstance(input, Tensor) else F._t(np.asarray(input, dtype=get_default_dtype().numpy))
        degree = n._data if isinstance(n, Tensor) else np.asarray(n)
        if isinstance(n, Tensor) and n.is_floating_point() and n.dtype.itemsize > x.dtype.itemsize:
            x = x.to(n.dtype)
        return OrthogonalPolynomial.apply(_floating(x), degree, name)

    polynomial.__name__ = polynomial.__qualname__ = name
    polynomial.__doc__ = (f"The {name.replace('_', ' ')} of degree ``n`` (per element; truncated to an "
                          f"integer) at ``input``, evaluated as PyTorch evaluates it; no gradient.")
    return polynomial


for _name in _POLYNOMIAL_NAMES:
    globals()[_name] = _polynomial(_name)
__all__ += list(_POLYNOMIAL_NAMES)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF, ``(1 + erf(x / sqrt(2))) / 2``, composed as PyTorch composes it."""
    return (1 + F.erf(_floating(input) * 0.7071067811865476)) * 0.5


def entr(input: Tensor) -> Tensor:
    """The elementwise entropy -x log(x): 0 at 0, -inf below; its derivative -(1 + log x)
    (inf at 0, NaN below, as PyTorch's)."""
    return Entr.apply(_floating(input))
