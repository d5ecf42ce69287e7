"""gradcheck and gradgradcheck (chainrule/calculus/gradcheck.py) on complex inputs and
outputs: checked as pairs of reals, so a gradient with a missing conjugation, or a wrong
imaginary part, fails, and right ones pass."""
from __future__ import annotations

import numpy as np
import pytest

import chainrule

#: A complex value cast to a real one silently loses its imaginary part: an error here.
pytestmark = pytest.mark.filterwarnings("error::numpy.exceptions.ComplexWarning")

_rng = np.random.default_rng(5)


def _complex(*shape):
    return chainrule.tensor(_rng.normal(size=shape) + 1j * _rng.normal(size=shape), requires_grad=True)


class _Unconjugated(chainrule.autograd.Function):
    """z * w with the gradient of real numbers (no conjugation): wrong for complex ones."""

    @staticmethod
    def forward(ctx, z, w):
        ctx.save_for_backward(z, w)
        return z * w

    @staticmethod
    def backward(ctx, g):
        z, w = ctx.saved_tensors
        return g * w, g * z


class _LostImaginaryPart(chainrule.autograd.Function):
    """x * (1 + 2i) of a real x, its gradient taking the real part of g only."""

    @staticmethod
    def forward(ctx, x):
        return x * (1 + 2j)

    @staticmethod
    def backward(ctx, g):
        return g.real


def test_complex_gradients_are_checked():
    z, w = _complex(3), _complex(3)
    gradcheck = chainrule.autograd.gradcheck
    assert gradcheck(lambda a, b: a * b, (z, w))
    assert gradcheck(lambda a: (a.exp() / (a + 3)).abs(), (z,))
    assert not gradcheck(_Unconjugated.apply, (z, w), raise_exception=False)
    x = chainrule.tensor(_rng.normal(size=3), requires_grad=True)
    assert gradcheck(lambda a: a * (1 + 2j), (x,))
    assert not gradcheck(_LostImaginaryPart.apply, (x,), raise_exception=False)


def test_complex_second_derivatives_are_checked():
    z = _complex(4)
    assert chainrule.autograd.gradgradcheck(lambda a: (a * a).sin() * a.conj(), (z,))


def _exp_function(jvp_factor):
    class Exp(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x.exp()

        @staticmethod
        def jvp(ctx, x_t):
            (x,) = ctx.saved_tensors
            return x.exp() * x_t * jvp_factor

    return Exp


def test_forward_mode_jacobian_is_checked():
    x = chainrule.tensor([0.3, -0.2, 1.1], dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradcheck(_exp_function(1.0).apply, (x,), check_forward_ad=True,
                                        check_backward_ad=False)
    assert chainrule.autograd.gradcheck(lambda t: (t.sin() * t).cumsum(0), (x,), check_forward_ad=True)
    assert not chainrule.autograd.gradcheck(_exp_function(2.0).apply, (x,), check_forward_ad=True,
                                            check_backward_ad=False, raise_exception=False)
    with pytest.raises(RuntimeError, match="Jacobian computed with forward mode mismatch for output 0"):
        chainrule.autograd.gradcheck(_exp_function(2.0).apply, (x,), check_forward_ad=True, check_backward_ad=False)
