"""Elementwise ops against PyTorch: values, dtypes and gradients, in every spelling
(method, ``chainrule.fn``, operator, reflected operator with Python scalars)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import chainrule
from op_parity import Inputs, check

_INPUTS = Inputs(1234)
RNG = _INPUTS.rng
normal, positive, unit, away_from_zero = _INPUTS.normal, _INPUTS.positive, _INPUTS.unit, _INPUTS.away_from_zero




def with_specials(*shape):
    """Normal values with NaN, +inf and -inf among them."""
    x = normal(*shape)
    flat = x.reshape(-1)
    flat[: min(3, flat.size)] = [np.nan, np.inf, -np.inf][: min(3, flat.size)]
    return x


# name, expression, input generator
UNARY = [
    ("neg-op", lambda L, x: -x, normal),
    ("neg-method", lambda L, x: x.neg(), normal),
    ("neg-fn", lambda L, x: L.neg(x), normal),
    ("negative-fn", lambda L, x: L.negative(x), normal),
    ("abs-builtin", lambda L, x: abs(x), away_from_zero),
    ("abs-method", lambda L, x: x.abs(), away_from_zero),
    ("abs-fn", lambda L, x: L.abs(x), away_from_zero),
    ("sign-method", lambda L, x: x.sign(), away_from_zero),
    ("sign-fn", lambda L, x: L.sign(x), away_from_zero),
    ("exp-method", lambda L, x: x.exp(), normal),
    ("exp-fn", lambda L, x: L.exp(x), normal),
    ("log-method", lambda L, x: x.log(), positive),
    ("log-fn", lambda L, x: L.log(x), positive),
    ("log2-method", lambda L, x: x.log2(), positive),
    ("log2-fn", lambda L, x: L.log2(x), positive),
    ("log1p-method", lambda L, x: x.log1p(), unit),
    ("log1p-fn", lambda L, x: L.log1p(x), unit),
    ("expm1-method", lambda L, x: x.expm1(), normal),
    ("expm1-fn", lambda L, x: L.expm1(x), normal),
    ("exp2-method", lambda L, x: x.exp2(), normal),
    ("exp2-fn", lambda L, x: L.exp2(x), normal),
    ("frac-method", lambda L, x: x.frac(), away_from_zero),
    ("frac-fn", lambda L, x: L.frac(x), away_from_zero),
    ("sqrt-method", lambda L, x: x.sqrt(), positive),
    ("sqrt-fn", lambda L, x: L.sqrt(x), positive),
    ("rsqrt-method", lambda L, x: x.rsqrt(), positive),
    ("rsqrt-fn", lambda L, x: L.rsqrt(x), positive),
    ("square-method", lambda L, x: x.square(), normal),
    ("square-fn", lambda L, x: L.square(x), normal),
    ("reciprocal-method", lambda L, x: x.reciprocal(), away_from_zero),
    ("reciprocal-fn", lambda L, x: L.reciprocal(x), away_from_zero),
    ("sin-method", lambda L, x: x.sin(), normal),
    ("sin-fn", lambda L, x: L.sin(x), normal),
    ("cos-method", lambda L, x: x.cos(), normal),
    ("cos-fn", lambda L, x: L.cos(x), normal),
    ("tan-method", lambda L, x: x.tan(), unit),
    ("tan-fn", lambda L, x: L.tan(x), unit),
    ("tanh-method", lambda L, x: x.tanh(), normal),
    ("tanh-fn", lambda L, x: L.tanh(x), normal),
    ("asinh-method", lambda L, x: x.asinh(), normal),
    ("arcsinh-fn", lambda L, x: L.arcsinh(x), normal),
    ("acosh-method", lambda L, x: (x + 2.5).acosh(), positive),
    ("arccosh-fn", lambda L, x: L.arccosh(x + 2.5), positive),
    ("atanh-method", lambda L, x: x.atanh(), unit),
    ("arctanh-fn", lambda L, x: L.arctanh(x), unit),
    ("sigmoid-method", lambda L, x: x.sigmoid(), normal),
    ("sigmoid-fn", lambda L, x: L.sigmoid(x), normal),
    ("relu-method", lambda L, x: x.relu(), away_from_zero),
    ("relu-fn", lambda L, x: L.relu(x), away_from_zero),
    ("clamp-both", lambda L, x: x.clamp(-0.5, 0.5), normal),
    ("clamp-min-kw", lambda L, x: x.clamp(min=-0.2), normal),
    ("clamp-max-kw", lambda L, x: L.clamp(x, max=0.3), normal),
    ("clip-method", lambda L, x: x.clip(-0.5, 0.5), normal),
    ("clip-fn", lambda L, x: L.clip(x, min=-0.1, max=0.7), normal),
    ("clamp_min", lambda L, x: x.clamp_min(0.1), normal),
    ("clamp_max", lambda L, x: x.clamp_max(0.1), normal),
    ("pow-int", lambda L, x: x ** 2, normal),
    ("pow-3", lambda L, x: x ** 3, normal),
    ("pow-neg", lambda L, x: x ** -1, away_from_zero),
    ("pow-half", lambda L, x: x ** 0.5, positive),
    ("pow-zero", lambda L, x: x ** 0, normal),
    ("pow-method", lambda L, x: x.pow(2.5), positive),
    ("pow-fn", lambda L, x: L.pow(x, 1.5), positive),
    ("rpow", lambda L, x: 2.0 ** x, normal),
    ("rpow-int", lambda L, x: 3 ** x, normal),
    ("pow-fn-scalar-base", lambda L, x: L.pow(2.0, x), normal),
    ("add-scalar", lambda L, x: x + 2.5, normal),
    ("radd-scalar", lambda L, x: 2.5 + x, normal),
    ("add-int", lambda L, x: x + 2, normal),
    ("sub-scalar", lambda L, x: x - 1.5, normal),
    ("rsub-scalar", lambda L, x: 1.5 - x, normal),
    ("mul-scalar", lambda L, x: x * 3.0, normal),
    ("rmul-scalar", lambda L, x: 3 * x, normal),
    ("div-scalar", lambda L, x: x / 4.0, normal),
    ("rdiv-scalar", lambda L, x: 4.0 / x, away_from_zero),
    ("rdiv-int", lambda L, x: 1 / x, away_from_zero),
    ("add-alpha", lambda L, x: x.add(1.0, alpha=2), normal),
    ("sub-alpha", lambda L, x: L.sub(x, 1.0, alpha=3), normal),
    ("pos", lambda L, x: +x, normal),
    ("asin-fn", lambda L, x: L.asin(x), unit),
    ("arcsin-method", lambda L, x: x.arcsin(), unit),
    ("acos-method", lambda L, x: x.acos(), unit),
    ("atan-fn", lambda L, x: L.atan(x), normal),
    ("sinh-method", lambda L, x: x.sinh(), normal),
    ("cosh-fn", lambda L, x: L.cosh(x), normal),
    ("erf-fn", lambda L, x: L.erf(x), normal),
    ("erf-method", lambda L, x: x.erf(), normal),
    ("logit-fn", lambda L, x: L.logit(x * 0.5 + 0.5), unit),
    ("logit-eps", lambda L, x: x.logit(eps=0.2), unit),
    ("nan_to_num", lambda L, x: L.nan_to_num(x), lambda *shape: with_specials(*shape)),
    ("nan_to_num-values", lambda L, x: x.nan_to_num(nan=1.5, posinf=9.0, neginf=-9.0), lambda *shape: with_specials(*shape)),
]

SHAPES = [(), (3,), (2, 3), (1, 4), (2, 1, 3), (0,), (2, 0)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name,fn,gen", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, fn, gen, shape):
    check(fn, gen(*shape))


@pytest.mark.parametrize("name,fn,gen", UNARY, ids=[u[0] for u in UNARY])
def test_unary_gradcheck(name, fn, gen):
    x = chainrule.tensor(gen(2, 3), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda t: fn(chainrule, t), (x,))


def test_sign_and_abs_at_zero():
    # PyTorch: sign'(x) = 0 everywhere; |x|' = sign(x), 0 at 0.
    check(lambda L, x: x.abs(), np.array([-1.0, 0.0, 2.0]))
    check(lambda L, x: x.sign(), np.array([-1.0, 0.0, 2.0]))


def test_relu_at_zero():
    check(lambda L, x: x.relu(), np.array([-1.0, 0.0, 2.0]))


def test_clamp_at_bounds():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    check(lambda L, x: x.clamp(-0.5, 0.5), x)
    check(lambda L, x: x.clamp(min=-0.5), x)
    check(lambda L, x: x.clamp(max=0.5), x)


def test_pow_zero_base():
    # d/dx x**2 at 0 is 0; x**0 has gradient 0 everywhere (PyTorch: not NaN).
    check(lambda L, x: x ** 2, np.array([0.0, 1.0, -2.0]))
    check(lambda L, x: x ** 0.0, np.array([0.0, 1.0, -2.0]))
    check(lambda L, x: x ** 1, np.array([0.0, 1.0, -2.0]))


BINARY = [
    ("add-op", lambda L, a, b: a + b),
    ("add-method", lambda L, a, b: a.add(b)),
    ("add-fn", lambda L, a, b: L.add(a, b)),
    ("add-alpha", lambda L, a, b: L.add(a, b, alpha=2.5)),
    ("sub-op", lambda L, a, b: a - b),
    ("sub-method", lambda L, a, b: a.sub(b)),
    ("sub-fn", lambda L, a, b: L.sub(a, b)),
    ("subtract-fn", lambda L, a, b: L.subtract(a, b, alpha=0.5)),
    ("mul-op", lambda L, a, b: a * b),
    ("mul-method", lambda L, a, b: a.mul(b)),
    ("mul-fn", lambda L, a, b: L.mul(a, b)),
    ("multiply-fn", lambda L, a, b: L.multiply(a, b)),
    ("div-op", lambda L, a, b: a / b),
    ("div-method", lambda L, a, b: a.div(b)),
    ("div-fn", lambda L, a, b: L.div(a, b)),
    ("true_divide-fn", lambda L, a, b: L.true_divide(a, b)),
    ("maximum-method", lambda L, a, b: a.maximum(b)),
    ("maximum-fn", lambda L, a, b: L.maximum(a, b)),
    ("max-other", lambda L, a, b: L.max(a, b)),
    ("minimum-method", lambda L, a, b: a.minimum(b)),
    ("minimum-fn", lambda L, a, b: L.minimum(a, b)),
    ("min-other", lambda L, a, b: L.min(a, b)),
    ("atan2-fn", lambda L, a, b: L.atan2(a, b)),
    ("lerp-tensor-weight", lambda L, a, b: L.lerp(a, b, b.sigmoid())),
    ("lerp-scalar-weight", lambda L, a, b: a.lerp(b, 0.3)),
    ("clamp-tensor-min", lambda L, a, b: a.clamp(min=b)),
    ("clamp-tensor-max", lambda L, a, b: L.clamp(a, max=b)),
    ("clamp-tensor-both", lambda L, a, b: L.clamp(a, b - 0.5, b + 0.5)),
    ("clip-tensor-both", lambda L, a, b: a.clip(b - 0.5, b + 0.5)),
    ("where", lambda L, a, b: L.where(a > b, a, b)),
    ("where-method-cond", lambda L, a, b: L.where(a > 0, a * 2, b)),
    ("where-scalar-other", lambda L, a, b: L.where(b > 0, a, 0.0) + b),
    ("fmod-fn", lambda L, a, b: L.fmod(a * 3, b)),
    ("fmod-method-scalar", lambda L, a, b: a.fmod(0.7) + b),
    ("hypot-fn", lambda L, a, b: L.hypot(a, b)),
    ("logaddexp-fn", lambda L, a, b: L.logaddexp(a, b)),
    ("xlogy-fn", lambda L, a, b: L.xlogy(a, b.abs())),
    ("where-method", lambda L, a, b: a.where(a > b, b)),
]

BROADCAST = [
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((3,), (2, 3)),
    ((2, 1, 3), (4, 1)),
    ((1,), (2, 3)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((0, 3), (3,)),
    ((2, 1), (1, 0)),
]


@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name,fn", BINARY, ids=[b[0] for b in BINARY])
def test_binary(name, fn, shapes):
    check(fn, normal(*shapes[0]), away_from_zero(*shapes[1]))


@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
def test_pow_tensor_tensor(shapes):
    check(lambda L, a, b: a ** b, positive(*shapes[0]), normal(*shapes[1]))
    check(lambda L, a, b: a.pow(b), positive(*shapes[0]), normal(*shapes[1]))
    check(lambda L, a, b: L.pow(a, b), positive(*shapes[0]), normal(*shapes[1]))


@pytest.mark.parametrize("name,fn", BINARY, ids=[b[0] for b in BINARY])
def test_binary_gradcheck(name, fn):
    a = chainrule.tensor(normal(2, 3), requires_grad=True)
    b = chainrule.tensor(away_from_zero(3), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda x, y: fn(chainrule, x, y), (a, b))


def test_pow_tensor_tensor_gradcheck():
    a = chainrule.tensor(positive(2, 3), requires_grad=True)
    b = chainrule.tensor(normal(3), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda x, y: x ** y, (a, b))


def test_pow_zero_base_tensor_exponent():
    # PyTorch: d/db a**b = 0 where a == 0 and b >= 0; d/da at b == 0 is 0.
    check(lambda L, a, b: a ** b, np.array([0.0, 0.0, 2.0, 0.0]), np.array([2.0, 0.0, 0.0, 1.0]))


def test_maximum_minimum_ties_split_gradient():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 3.0])
    check(lambda L, a, b: L.maximum(a, b), a, b)
    check(lambda L, a, b: L.minimum(a, b), a, b)


def test_clamp_tensor_bounds_at_ties():
    x = np.array([-1.0, 0.0, 1.0, 2.0])
    low = np.array([0.0, 0.0, 0.0, 0.0])
    high = np.array([1.0, 1.0, 1.0, 1.0])
    check(lambda L, x, lo, hi: L.clamp(x, lo, hi), x, low, high)


def test_where_broadcast_condition():
    cond = np.array([[True], [False]])
    check(lambda L, c, a, b: L.where(c, a, b), cond, normal(2, 3), normal(3))
    check(lambda L, c, a: L.where(c, a, 1.5), cond, normal(1, 3))
    check(lambda L, c, b: L.where(c, -1.0, b), cond, normal(3))


def test_lerp_broadcast_weight():
    check(lambda L, a, b, w: L.lerp(a, b, w), normal(2, 3), normal(3), RNG.uniform(0, 1, (2, 1)))


def test_multiply_same_tensor():
    # A tensor used twice in one op: both gradients are summed.
    check(lambda L, x: x * x, normal(3))
    check(lambda L, x: x / x, away_from_zero(3))
    check(lambda L, x: x ** x, positive(3))
    check(lambda L, x: L.maximum(x, x), normal(3))


ROUNDING = [
    ("floor", lambda L, x: x.floor() * x),
    ("ceil", lambda L, x: L.ceil(x) * x),
    ("trunc", lambda L, x: x.trunc() + x),
    ("round", lambda L, x: L.round(x * 3) * x),
    ("round-decimals", lambda L, x: x.round(decimals=1) * x),
    ("floor-alone", lambda L, x: x.floor()),
]


@pytest.mark.parametrize("name,fn", ROUNDING, ids=[r[0] for r in ROUNDING])
def test_rounding_records_a_zero_gradient(name, fn):
    # Piecewise constant: PyTorch records them (requires_grad=True) with a zero derivative.
    check(fn, np.array([[1.5, -2.5, 0.25], [-0.75, 2.0, 3.49]]))


def test_rounding_integers_keeps_dtype():
    x = np.array([1, -2, 3], dtype=np.int64)
    for fn in (lambda L, t: t.floor(), lambda L, t: t.ceil(), lambda L, t: t.round(), lambda L, t: t.trunc()):
        check(fn, x, grad=False)


# -- not differentiable: // and %, comparisons, logical ops ----------------------------------

INT_A = np.array([[7, -7, 3], [0, 5, -2]], dtype=np.int64)
INT_B = np.array([2, 3, -4], dtype=np.int64)
FLOAT_A = np.array([[7.5, -7.5, 3.0], [0.0, 5.25, -2.0]])
FLOAT_B = np.array([2.0, 3.5, -4.0])

FLOOR_REM = [
    ("floordiv-op", lambda L, a, b: a // b),
    ("floordiv-fn", lambda L, a, b: L.floor_divide(a, b)),
    ("floordiv-method", lambda L, a, b: a.floor_divide(b)),
    ("floordiv-scalar", lambda L, a, b: a // 2),
    ("rfloordiv-scalar", lambda L, a, b: 7 // b),
    ("div-floor", lambda L, a, b: L.div(a, b, rounding_mode="floor")),
    ("div-trunc", lambda L, a, b: L.div(a, b, rounding_mode="trunc")),
    ("mod-op", lambda L, a, b: a % b),
    ("mod-fn", lambda L, a, b: L.remainder(a, b)),
    ("mod-method", lambda L, a, b: a.remainder(b)),
    ("mod-scalar", lambda L, a, b: a % 3),
    ("rmod-scalar", lambda L, a, b: 7 % b),
]


@pytest.mark.parametrize("a,b", [(INT_A, INT_B), (FLOAT_A, FLOAT_B)], ids=["int", "float"])
@pytest.mark.parametrize("name,fn", FLOOR_REM, ids=[f[0] for f in FLOOR_REM])
def test_floordiv_and_remainder(name, fn, a, b):
    check(fn, a, b, grad=False)


def test_floordiv_and_remainder_record_as_in_torch():
    # x // y: recorded with a node whose backward is not implemented; x % y: differentiable;
    # div with a rounding mode: a zero gradient.
    for lib in (torch, chainrule):
        x = lib.tensor([3.5, -2.0], requires_grad=True)
        assert (x // 2).requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
            (x // 2).sum().backward()
        assert (x % 2).requires_grad
        lib.div(x, 2, rounding_mode="floor").sum().backward()
        assert x.grad.tolist() == [0.0, 0.0]
    check(lambda L, a, b: a % b, np.array([5.5, -3.2, 7.0]), np.array([2.0, 1.5, -3.0]))
    check(lambda L, a, b: L.remainder(a, 2.5) + b, np.array([5.5, -3.2, 7.0]), np.array([2.0, 1.5, -3.0]))


COMPARISONS = [
    ("eq-op", lambda L, a, b: a == b),
    ("ne-op", lambda L, a, b: a != b),
    ("lt-op", lambda L, a, b: a < b),
    ("le-op", lambda L, a, b: a <= b),
    ("gt-op", lambda L, a, b: a > b),
    ("ge-op", lambda L, a, b: a >= b),
    ("eq-method", lambda L, a, b: a.eq(b)),
    ("ne-fn", lambda L, a, b: L.ne(a, b)),
    ("lt-fn", lambda L, a, b: L.lt(a, b)),
    ("le-method", lambda L, a, b: a.le(b)),
    ("gt-fn", lambda L, a, b: L.gt(a, b)),
    ("ge-method", lambda L, a, b: a.ge(b)),
    ("greater-fn", lambda L, a, b: L.greater(a, b)),
    ("less_equal-fn", lambda L, a, b: L.less_equal(a, b)),
    ("eq-scalar", lambda L, a, b: a == 1.0),
    ("lt-scalar", lambda L, a, b: a < 0),
    ("rgt-scalar", lambda L, a, b: 0.5 > a),
    ("ge-scalar-method", lambda L, a, b: a.ge(0.0)),
    ("and-op", lambda L, a, b: (a > 0) & (b > 0)),
    ("or-op", lambda L, a, b: (a > 0) | (b > 0)),
    ("xor-op", lambda L, a, b: (a > 0) ^ (b > 0)),
    ("invert-op", lambda L, a, b: ~(a > 0)),
    ("logical_and", lambda L, a, b: L.logical_and(a > 0, b > 0)),
    ("logical_or", lambda L, a, b: L.logical_or(a > 0, b)),
    ("logical_xor", lambda L, a, b: L.logical_xor(a, b > 0)),
    ("logical_not", lambda L, a, b: L.logical_not(a > 0)),
    ("logical_not-float", lambda L, a, b: L.logical_not(a)),
    ("logical_and-method", lambda L, a, b: (a > 0).logical_and(b > 0)),
]


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((0,), (1,))], ids=str)
@pytest.mark.parametrize("name,fn", COMPARISONS, ids=[c[0] for c in COMPARISONS])
def test_comparisons(name, fn, shapes):
    a = RNG.integers(-2, 3, shapes[0]).astype(np.float64)
    b = RNG.integers(-2, 3, shapes[1]).astype(np.float64)
    out_c, _ = check(fn, a, b, grad=True)
    assert out_c.grad_fn is None and not out_c.requires_grad


def test_integer_bitwise_ops():
    a = np.array([5, 6, 12], dtype=np.int64)
    b = np.array([3, 3, 10], dtype=np.int64)
    check(lambda L, a, b: a & b, a, b, grad=False)
    check(lambda L, a, b: a | b, a, b, grad=False)
    check(lambda L, a, b: a ^ b, a, b, grad=False)
    check(lambda L, a, b: ~a, a, b, grad=False)


# -- hypothesis: broadcasting ----------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3),
       op=st.sampled_from(["add", "sub", "mul", "div", "maximum", "pow"]), seed=st.integers(0, 2**16))
def test_broadcast_binary_hypothesis(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a_shape, b_shape = shapes.input_shapes
    fns = {
        "add": lambda L, a, b: a + b,
        "sub": lambda L, a, b: a - b,
        "mul": lambda L, a, b: a * b,
        "div": lambda L, a, b: a / b,
        "maximum": lambda L, a, b: L.maximum(a, b),
        "pow": lambda L, a, b: a.abs() ** b,
    }
    a = rng.uniform(0.5, 2.0, a_shape)
    b = rng.uniform(0.5, 2.0, b_shape)
    out_c, _ = check(fns[op], a, b, seed=seed)
    assert tuple(out_c.shape) == shapes.result_shape


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=1, max_side=3),
       seed=st.integers(0, 2**16))
def test_broadcast_where_lerp_hypothesis(shapes, seed):
    rng = np.random.default_rng(seed)
    c_shape, a_shape, b_shape = shapes.input_shapes
    cond = np.asarray(rng.random(c_shape) > 0.5)
    check(lambda L, c, a, b: L.where(c, a, b), cond, rng.standard_normal(a_shape), rng.standard_normal(b_shape))
    check(lambda L, a, b, w: L.lerp(a, b, w), rng.standard_normal(c_shape), rng.standard_normal(a_shape),
          rng.uniform(0, 1, b_shape))


@pytest.mark.parametrize("shapes", [((2, 3), (4,)), ((5, 3), (4, 2)), ((2, 1, 3), (4, 2))], ids=str)
def test_broadcast_error_matches_torch(shapes):
    with pytest.raises(RuntimeError) as expected:
        torch.ones(shapes[0]) + torch.ones(shapes[1])
    for op in (lambda a, b: a + b, lambda a, b: a * b, lambda a, b: chainrule.maximum(a, b)):
        with pytest.raises(RuntimeError) as error:
            op(chainrule.ones(shapes[0]), chainrule.ones(shapes[1]))
        assert str(error.value) == str(expected.value)


def test_xlogy_is_zero_where_x_is_zero():
    # PyTorch's gradients there: log(y) for x (0 where y is 0 too), x / y for y (NaN at 0/0).
    check(lambda L, x, y: L.xlogy(x, y), np.array([0.0, 0.0, 2.0, 1.5]), np.array([0.0, 3.0, 0.5, 2.0]))
    x = chainrule.tensor(np.array([0.0, 2.0, 1.5]), requires_grad=True)
    y = chainrule.tensor(np.array([3.0, 0.5, 2.0]), requires_grad=True)
    assert chainrule.autograd.gradgradcheck(chainrule.xlogy, (x, y))


def test_fmod_keeps_the_dividend_sign_and_integer_dtype():
    check(lambda L, a, b: L.fmod(a, b), np.array([-7, 7, -3, 5]), np.array([3, -3, 2, 5]), grad=False)
    check(lambda L, a: L.fmod(a, 1.5), np.array([-3.5, 3.5, 0.25]))


def test_atan2_gradient_at_the_origin_is_zero():
    check(lambda L, a, b: L.atan2(a, b), np.array([0.0, 1.0, -0.5]), np.array([0.0, 2.0, 0.0]))


def test_integer_clamp_with_float_bounds_and_rounded_integer_division_keep_torch_dtypes():
    for fn in (lambda L, x: x.clamp(min=1.5), lambda L, x: x.clamp(max=2.5), lambda L, x: x.clamp(0, 3),
               lambda L, x: L.div(x, 2, rounding_mode="trunc"), lambda L, x: L.div(x, 2, rounding_mode="floor"),
               lambda L, x: L.div(x, 2.0, rounding_mode="trunc"), lambda L, x: L.div(x, L.tensor(2), rounding_mode="trunc")):
        check(fn, np.array([-7, 5, 2]), grad=False)


def test_addcmul_and_addcdiv():
    a, b, c = np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([0.5, 2.0])
    check(lambda L, x, y, z: L.addcmul(x, y, z, value=0.5) + x.addcdiv(y, z, value=2) + L.addcdiv(x, y, z), a, b, c)
    for lib in (torch, chainrule):
        p = lib.ones(2)
        with lib.no_grad():
            p.addcmul_(lib.tensor(b), lib.tensor(c), value=-1)
            p.addcdiv_(lib.tensor(b), lib.tensor(c))
        assert p.tolist() == [5.5, -5.0]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_sigmoid_is_exactly_zero_where_exp_overflows(dtype):
    """PyTorch computes 1 / (1 + exp(-x)): where exp(-x) overflows, 0 (not a denormal)."""
    x = [-1e4, -1000.0, -746.0, -709.0, -104.0, -89.0, -88.7, -88.0, -17.0, -10.0, 0.0, 10.0, 1000.0]
    ours = chainrule.sigmoid(chainrule.tensor(x, dtype=getattr(chainrule, dtype))).numpy()
    theirs = torch.sigmoid(torch.tensor(x, dtype=getattr(torch, dtype))).numpy()
    assert ours.dtype == theirs.dtype and (ours == 0).tolist() == (theirs == 0).tolist()
    np.testing.assert_allclose(ours, theirs, rtol=1e-3 if dtype == "float16" else 1e-6, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_backward_rounds_as_pytorchs(dtype):
    """The gradient is PyTorch's ``g * (1 - y) * y`` in its order, so from the same output y
    both give the same bits (another order differs in the last bit in a third of them)."""
    rng = np.random.default_rng(3)
    x, g = rng.standard_normal((2, 10_000)).astype(dtype)
    t = chainrule.tensor(x, requires_grad=True)
    y = t.sigmoid()
    y.backward(chainrule.tensor(g))
    theirs = torch.ops.aten.sigmoid_backward(torch.tensor(g), torch.tensor(y.detach().numpy()))
    np.testing.assert_array_equal(t.grad.numpy(), theirs.numpy())


def test_binary_cross_entropy_of_a_saturated_sigmoid_clamps_the_log_at_minus_100():
    for lib in (chainrule, torch):
        x = lib.tensor([-1e3, -90.0, 1e3], requires_grad=True)
        loss = lib.nn.functional.binary_cross_entropy(lib.sigmoid(x), lib.tensor([1.0, 1.0, 0.0]), reduction="none")
        assert loss.tolist() == [100.0, 100.0, 100.0]


def test_sign_of_bools_is_the_bools_themselves():
    # PyTorch's sign keeps a bool tensor (NumPy's has no bool loop).
    mask = [True, False, True]
    ours, theirs = chainrule.tensor(mask).sign(), torch.tensor(mask).sign()
    assert ours.dtype == chainrule.bool and theirs.dtype == torch.bool
    assert ours.tolist() == theirs.tolist()
