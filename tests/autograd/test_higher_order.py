"""Second and third derivatives (create_graph=True) against PyTorch: every elementwise op,
matmul, the reductions, softmax; and gradgradcheck."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close
from op_parity import Inputs

_INPUTS = Inputs(3)
normal, positive, unit, away = _INPUTS.normal, _INPUTS.positive, _INPUTS.unit, _INPUTS.away_from_zero


def _grads(lib, outputs, inputs, seeds):
    """Gradients of sum(output * seed) w.r.t. inputs; None (unused) as zeros."""
    live = [(o, s) for o, s in zip(outputs, seeds) if o.requires_grad]
    if not live:
        return [lib.zeros_like(x) for x in inputs]
    grads = lib.autograd.grad([o for o, _ in live], inputs, [s for _, s in live], create_graph=True,
                              allow_unused=True)
    # PyTorch may answer a ZeroTensor (e.g. for sign's derivative): compare it as zeros.
    return [lib.zeros_like(x) if g is None or getattr(g, "_is_zerotensor", lambda: False)() else g
            for g, x in zip(grads, inputs)]


def derivatives(fn, *arrays, order=3, rtol=1e-8, atol=1e-8, seed=0):
    """Compare d^k/dx^k of fn for k = 1..order (each a vector-Jacobian product with random
    weights, differentiated again) between chainrule and torch."""
    rng = np.random.default_rng(seed)
    c_in = [chainrule.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    c_out, t_out = fn(chainrule, *c_in), fn(torch, *t_in)
    assert_close(c_out, t_out, rtol, atol, "forward")
    c_level, t_level = [c_out], [t_out]
    for k in range(1, order + 1):
        weights = [rng.standard_normal(tuple(t.shape)) for t in t_level]
        c_level = _grads(chainrule, c_level, c_in, [chainrule.tensor(w) for w in weights])
        t_level = _grads(torch, t_level, t_in, [torch.tensor(w) for w in weights])
        for i, (c, t) in enumerate(zip(c_level, t_level)):
            assert_close(c, t, rtol, atol, f"order {k} derivative w.r.t. input {i}")


UNARY = [
    ("neg", lambda L, x: -x, normal),
    ("abs", lambda L, x: x.abs(), away),
    ("sign", lambda L, x: x.sign(), away),
    ("exp", lambda L, x: x.exp(), normal),
    ("log", lambda L, x: x.log(), positive),
    ("log2", lambda L, x: L.log2(x), positive),
    ("log1p", lambda L, x: x.log1p(), unit),
    ("expm1", lambda L, x: x.expm1(), normal),
    ("sqrt", lambda L, x: x.sqrt(), positive),
    ("rsqrt", lambda L, x: x.rsqrt(), positive),
    ("square", lambda L, x: x.square(), normal),
    ("reciprocal", lambda L, x: x.reciprocal(), away),
    ("sin", lambda L, x: x.sin(), normal),
    ("cos", lambda L, x: L.cos(x), normal),
    ("tan", lambda L, x: x.tan(), unit),
    ("tanh", lambda L, x: x.tanh(), normal),
    ("sigmoid", lambda L, x: x.sigmoid(), normal),
    ("relu", lambda L, x: x.relu(), away),
    ("clamp", lambda L, x: x.clamp(-0.5, 0.5), normal),
    ("pow-2", lambda L, x: x ** 2, normal),
    ("pow-3", lambda L, x: x ** 3, normal),
    ("pow-frac", lambda L, x: x ** 2.5, positive),
    ("pow-neg", lambda L, x: x ** -2, away),
    ("rpow", lambda L, x: 2.0 ** x, normal),
    ("add-scalar", lambda L, x: x + 1.5, normal),
    ("rsub-scalar", lambda L, x: 1.5 - x, normal),
    ("mul-scalar", lambda L, x: 3.0 * x, normal),
    ("rdiv-scalar", lambda L, x: 2.0 / x, away),
    ("self-mul", lambda L, x: x * x * x, normal),
]


@pytest.mark.parametrize("name,fn,gen", UNARY, ids=[u[0] for u in UNARY])
def test_unary_higher_order(name, fn, gen):
    derivatives(fn, gen(2, 3))


BINARY = [
    ("add", lambda L, a, b: a + b),
    ("sub", lambda L, a, b: a - b),
    ("mul", lambda L, a, b: a * b),
    ("div", lambda L, a, b: a / b),
    ("pow", lambda L, a, b: a.abs() ** b),
    ("maximum", lambda L, a, b: L.maximum(a, b)),
    ("minimum", lambda L, a, b: L.minimum(a, b)),
    ("atan2", lambda L, a, b: L.atan2(a, b)),
    ("where", lambda L, a, b: L.where(a > b, a * a, b * a)),
    ("lerp", lambda L, a, b: L.lerp(a, b, b.sigmoid())),
    ("clamp-tensor", lambda L, a, b: L.clamp(a * a, b - 0.5, b + 0.5)),
    ("mixed", lambda L, a, b: (a * b).exp() / (1 + b * b)),
]


@pytest.mark.parametrize("name,fn", BINARY, ids=[b[0] for b in BINARY])
def test_binary_higher_order(name, fn):
    derivatives(fn, away(2, 3), away(2, 3))


@pytest.mark.parametrize("name,fn", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcast_higher_order(name, fn):
    derivatives(fn, away(2, 3), away(3))


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                    ((2, 2, 3), (3, 4)), ((2, 2, 3), (1, 3, 2))], ids=str)
def test_matmul_higher_order(shapes):
    derivatives(lambda L, a, b: (a @ b) * (a @ b), normal(*shapes[0]), normal(*shapes[1]))
    derivatives(lambda L, a, b: (a @ b).tanh(), normal(*shapes[0]), normal(*shapes[1]))


REDUCTIONS = [
    ("sum", lambda L, x: (x * x).sum()),
    ("sum-dim", lambda L, x: (x * x * x).sum(1)),
    ("mean", lambda L, x: (x * x).mean(0, keepdim=True)),
    ("prod", lambda L, x: x.prod()),
    ("prod-dim", lambda L, x: x.prod(1)),
    ("var", lambda L, x: x.var()),
    ("var-dim", lambda L, x: x.var(1, correction=0)),
    ("std", lambda L, x: x.std()),
    ("std-dim", lambda L, x: x.std(0, keepdim=True)),
    ("amax", lambda L, x: (x * x).amax(1)),
    ("max", lambda L, x: (x * x).max()),
    ("max-dim", lambda L, x: (x * x * x).max(1).values),
    ("min-dim", lambda L, x: (x * x * x).min(0)[0]),
    ("logsumexp", lambda L, x: x.logsumexp(1)),
    ("logsumexp-all", lambda L, x: (x * x).logsumexp((0, 1))),
    ("norm", lambda L, x: x.norm()),
    ("norm-dim", lambda L, x: x.norm(dim=1)),
    ("norm-p1", lambda L, x: (x * x).norm(p=1)),
    ("norm-p3", lambda L, x: x.norm(p=3, dim=0)),
    ("cumsum", lambda L, x: (x * x).cumsum(1)),
    ("softmax", lambda L, x: x.softmax(1)),
    ("log_softmax", lambda L, x: x.log_softmax(0)),
]


@pytest.mark.parametrize("name,fn", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_higher_order(name, fn):
    derivatives(fn, away(3, 4))


SHAPES = [
    ("reshape", lambda L, x: (x * x).reshape(4, 3)),
    ("permute", lambda L, x: (x * x).permute(1, 0)),
    ("expand", lambda L, x: (x * x)[:, :1].expand(3, 5)),
    ("index", lambda L, x: (x * x)[[0, 0, 2], 1:]),
    ("mask", lambda L, x: (x * x)[x > 0]),
    ("gather", lambda L, x: (x * x).gather(1, L.tensor([[0, 0], [3, 1], [2, 2]]))),
    ("index_select", lambda L, x: (x * x).index_select(1, L.tensor([1, 1, 0]))),
    ("cat", lambda L, x: L.cat([x * x, x], 1)),
    ("stack", lambda L, x: L.stack([x * x, x.exp()], 0)),
    ("flip", lambda L, x: (x * x).flip(0)),
    ("repeat", lambda L, x: (x * x).repeat(2, 1)),
    ("scatter_add", lambda L, x: (x * x).scatter_add(0, L.tensor([[0, 1, 2, 0]]), x[:1] * x[:1])),
    ("masked_fill", lambda L, x: (x * x).masked_fill(x > 0, 1.0)),
]


@pytest.mark.parametrize("name,fn", SHAPES, ids=[s[0] for s in SHAPES])
def test_shape_higher_order(name, fn):
    derivatives(fn, away(3, 4))


def test_gradgradcheck():
    gradgradcheck = chainrule.autograd.gradgradcheck
    x = chainrule.tensor(normal(2, 3), requires_grad=True)
    y = chainrule.tensor(normal(3, 2), requires_grad=True)
    assert gradgradcheck(lambda a: a.tanh() * a.sigmoid(), (x,))
    assert gradgradcheck(lambda a, b: (a @ b).exp(), (x, y))
    assert gradgradcheck(lambda a: a.softmax(1), (x,))
    assert gradgradcheck(lambda a: a.std(1), (x,))
    assert gradgradcheck(lambda a: a.logsumexp(0), (x,))


def test_third_derivative_of_scalar_function():
    # f = x^4: f' = 4x^3, f'' = 12x^2, f''' = 24x
    x = chainrule.tensor(1.5, dtype=chainrule.float64, requires_grad=True)
    y = x ** 4
    (g1,) = chainrule.autograd.grad(y, x, create_graph=True)
    (g2,) = chainrule.autograd.grad(g1, x, create_graph=True)
    (g3,) = chainrule.autograd.grad(g2, x)
    assert g1.item() == pytest.approx(4 * 1.5 ** 3)
    assert g2.item() == pytest.approx(12 * 1.5 ** 2)
    assert g3.item() == pytest.approx(24 * 1.5)


def test_backward_create_graph_accumulates_differentiable_grad():
    x = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.0, 2.0]))


# -- torch.autograd.functional: jacobian, hessian, vjp, jvp, vhp, hvp ---------------------------

def _functional_cases(L):
    W = L.tensor(np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]))

    def f(x):
        return L.tanh(W @ x) * x[:2]

    def two(x, y):
        return (x * y).sum() + x.pow(3).sum()

    def scalar(x):
        return (x.sin() * x.exp()).sum()

    x = L.tensor(np.array([0.3, -1.2, 0.8]))
    v2, v3 = L.tensor(np.array([1.0, -2.0])), L.tensor(np.array([0.5, 0.1, -1.0]))
    F = L.autograd.functional
    return [F.jacobian(f, x), list(F.jacobian(two, (x, x * 2))), F.hessian(scalar, x),
            list(F.vjp(f, x, v2)), list(F.jvp(f, x, v3)), list(F.vhp(scalar, x, v3)), list(F.hvp(scalar, x, v3)),
            list(F.vjp(two, (x, x + 1))[1]), list(F.jvp(two, (x, x + 1), (v3, v3)))]


def test_autograd_functional_matches_torch():
    from op_parity import compare

    compare(_functional_cases(chainrule), _functional_cases(torch))


# -- jacobian / hessian against torch: nesting, create_graph, constants, strict, vectorize -------
# Each case runs once per library; a result is compared as PyTorch returns it (tuple or list
# nesting, shapes, values, requires_grad), and where it carries a graph, a weighted sum of it
# is backpropagated and the gradients of the inputs and of a captured parameter compared.

_A, _X, _Y, _M = normal(2, 3), normal(3), normal(3), normal(2, 3)


def _jac_cases(L, W):
    """name -> (func, inputs as arrays): one-tensor and tuple inputs; outputs of several
    dims, scalars, tuples, constants and detached results."""
    return {
        "elementwise": (lambda x: x.sin(), [_X]),
        "matrix-out": (lambda x: (x.reshape(-1, 1) * x.reshape(1, -1)).exp(), [_X]),
        "matrix-in": (lambda x: x.tanh().sum(0), [_M]),
        "captured-param": (lambda x: L.tanh(W @ x) * x[:2], [_X]),
        "linear": (lambda x: W @ x, [_X]),
        "scalar": (lambda x: (x.sin() * x.exp()).sum(), [_M]),
        "one-element": (lambda x: (x * x).sum().reshape(1), [_X]),
        "tuple-out": (lambda x: (x.sin(), (W @ x).sum(), x[:2].exp().reshape(2, 1)), [_X]),
        "constant": (lambda x: L.ones(2, 2, dtype=L.float64), [_X]),
        "detached": (lambda x: (x * 0).detach(), [_X]),
        "tuple-with-constant": (lambda x: (x.cos(), L.zeros(2, dtype=L.float64)), [_X]),
        "two-in": (lambda a, b: (a * b).exp() + (W @ a).sum(), [_X, _Y]),
        "two-in-scalar": (lambda a, b: (a * b).sum() + a.pow(3).sum(), [_X, _Y]),
        "two-in-unused": (lambda a, b: a.sin(), [_X, _Y]),
        "two-in-tuple-out": (lambda a, b: (a * b, a.sum(), (b * W).sum(1)), [_X, _Y]),
    }


def _nested(actual, expected, what, graph=True):
    """``op_parity.compare``, also telling tuples from lists as PyTorch's results do; without
    ``graph``, requires_grad is not compared."""
    from op_parity import compare

    if isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected) and len(actual) == len(expected), (
            f"{what}: {type(actual).__name__} != {type(expected).__name__} of {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _nested(a, e, f"{what}[{i}]", graph)
    elif graph:
        compare(actual, expected, what=what)
    else:
        compare(actual.detach(), expected.detach(), what=what)


def _leaves(result):
    return [t for r in result for t in _leaves(r)] if isinstance(result, (tuple, list)) else [result]


def _call(L, case, op, requires_grad, kwargs, v=None):
    """(result, gradients of the inputs and of W after backpropagating it) or the error."""
    W = L.tensor(_A, requires_grad=True)
    func, arrays = _jac_cases(L, W)[case]
    xs = tuple(L.tensor(a, requires_grad=requires_grad) for a in arrays)
    inputs = xs[0] if len(xs) == 1 else xs
    F = L.autograd.functional
    try:
        if v is None:
            result = getattr(F, op)(func, inputs, **kwargs)
        else:
            vs = tuple(L.tensor(a) for a in v)
            result = getattr(F, op)(func, inputs, vs[0] if len(vs) == 1 else vs, **kwargs)
    except Exception as error:  # noqa: BLE001 - compared with PyTorch's
        return type(error), str(error)
    live = [t for t in _leaves(result) if t.requires_grad]
    if not live:
        return result, None
    weights = np.random.default_rng(1)
    sum((t * L.tensor(weights.standard_normal(tuple(t.shape)))).sum() for t in live).backward()
    return result, [x.grad for x in xs] + [W.grad]


def _check_against_torch(case, op, requires_grad, kwargs, v=None):
    got = _call(chainrule, case, op, requires_grad, kwargs, v)
    want = _call(torch, case, op, requires_grad, kwargs, v)
    if isinstance(want[0], type):  # PyTorch raised: so must chainrule, with its message
        assert got == want
        return
    assert not isinstance(got[0], type), f"chainrule raised {got}"
    if "forward-mode" in kwargs.values() and (requires_grad or op == "hessian"):
        # PyTorch's forward-mode formulas record primals that some derivatives do not depend
        # on (the tangent of x * 2 is recorded with x), and chainrule computes forward mode
        # in reverse: where the primals require grad, which results carry a graph can differ
        # (the values may not).  A parameter that ``func`` captures gives the same graph.
        _nested(got[0], want[0], "result", graph=False)
        return
    _nested(got[0], want[0], "result")
    assert (got[1] is None) == (want[1] is None), "result carries a graph"
    for i, (g, w) in enumerate(zip(got[1] or [], want[1] or [])):
        assert (g is None) == (w is None), f"gradient {i} is None"
        if w is not None:
            assert_close(g, w, what=f"gradient {i} through the result")


_JAC_CASES = list(_jac_cases(torch, None))
_JAC_KWARGS = [
    {}, {"create_graph": True}, {"strict": True}, {"strict": True, "create_graph": True},
    {"vectorize": True}, {"vectorize": True, "create_graph": True}, {"vectorize": True, "strict": True},
    {"vectorize": True, "strategy": "forward-mode"}, {"strategy": "forward-mode"},
    {"vectorize": True, "strategy": "forward-mode", "create_graph": True}, {"strategy": "sideways"},
]


@pytest.mark.parametrize("kwargs", _JAC_KWARGS, ids=str)
@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "requires_grad"])
@pytest.mark.parametrize("case", _JAC_CASES)
def test_jacobian_matches_torch(case, requires_grad, kwargs):
    _check_against_torch(case, "jacobian", requires_grad, kwargs)


_HESSIAN_CASES = ["scalar", "one-element", "elementwise", "tuple-out", "two-in-scalar", "two-in-unused"]
_HESSIAN_KWARGS = [
    {}, {"create_graph": True}, {"strict": True}, {"strict": True, "create_graph": True},
    {"vectorize": True}, {"vectorize": True, "create_graph": True}, {"vectorize": True, "strict": True},
    {"vectorize": True, "outer_jacobian_strategy": "forward-mode"}, {"outer_jacobian_strategy": "forward-mode"},
]


@pytest.mark.parametrize("kwargs", _HESSIAN_KWARGS, ids=str)
@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "requires_grad"])
@pytest.mark.parametrize("case", _HESSIAN_CASES)
def test_hessian_matches_torch(case, requires_grad, kwargs):
    _check_against_torch(case, "hessian", requires_grad, kwargs)


def _hessian_tuple_cases(L):
    def f(a, b, c):
        return (a.sin() * b).sum() + (c * c).sum() * a.prod()

    return f, (L.tensor(_X), L.tensor(_Y), L.tensor(_M))


def test_hessian_of_three_inputs_is_a_tuple_of_tuples():
    got = chainrule.autograd.functional.hessian(*_hessian_tuple_cases(chainrule))
    want = torch.autograd.functional.hessian(*_hessian_tuple_cases(torch))
    _nested(got, want, "hessian")
    assert tuple(got[2][0].shape) == (2, 3, 3)


_PRODUCT_CASES = {  # name -> v for vjp (shaped as the outputs) and for the others (as the inputs)
    "scalar": ([normal()], [_M]),
    "captured-param": ([normal(2)], [_X]),
    "tuple-out": ([normal(3), normal(), normal(2, 1)], [_X]),
    "constant": ([normal(2, 2)], [_X]),
    "two-in-scalar": ([normal()], [_X, _Y]),
    "two-in-unused": ([normal(3)], [_X, _Y]),
    "two-in-tuple-out": ([normal(3), normal(), normal(2)], [_X, _Y]),
}


@pytest.mark.parametrize("kwargs", [{}, {"create_graph": True}, {"strict": True},
                                    {"strict": True, "create_graph": True}], ids=str)
@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "requires_grad"])
@pytest.mark.parametrize("op", ["vjp", "jvp", "vhp", "hvp"])
@pytest.mark.parametrize("case", list(_PRODUCT_CASES))
def test_vector_products_match_torch(case, op, requires_grad, kwargs):
    v_out, v_in = _PRODUCT_CASES[case]
    _check_against_torch(case, op, requires_grad, kwargs, v_out if op == "vjp" else v_in)


def test_jacobian_create_graph_backward():
    # The brief's example: J.sum().backward() reaches the input and what func captured.
    for L in (chainrule, torch):
        x = L.tensor(_X, requires_grad=True)
        W = L.tensor(_A, requires_grad=True)
        J = L.autograd.functional.jacobian(lambda t: L.tanh(W @ t.sin()), x, create_graph=True)
        J.sum().backward()
        if L is chainrule:
            got = (J, x.grad, W.grad)
    assert_close(got[0], J, what="jacobian")
    assert_close(got[1], x.grad, what="x.grad")
    assert_close(got[2], W.grad, what="W.grad")


def test_functional_rejects_lists_like_torch():
    for make in (lambda L, x: L.autograd.functional.jacobian(lambda t: t.sin(), [x]),
                 lambda L, x: L.autograd.functional.jacobian(lambda t: [t.sin()], x),
                 lambda L, x: L.autograd.functional.vjp(lambda t: t.sin(), x)):
        errors = []
        for L in (chainrule, torch):
            with pytest.raises((TypeError, RuntimeError)) as info:
                make(L, L.tensor(_X))
            errors.append((info.type, str(info.value)))
        assert errors[0] == errors[1]
