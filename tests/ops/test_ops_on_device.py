"""The op parity tables on the stand-in device (``tests/device_standin.py``): every row's
values and gradients equal the CPU's bit for bit, and nothing leaves the device."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import test_elementwise as elementwise
import test_complex as complex_ops
import test_fft as fft_ops
import test_linalg as linalg
import test_nn_softmax as softmax
import test_reduction as reduction
import test_shape as shape_ops
from device_parity import check_on_device

RNG = np.random.default_rng(3)


def normal(*shape):
    return np.asarray(RNG.standard_normal(shape))


def away_from_zero(*shape):
    return np.asarray(RNG.uniform(0.3, 2.0, shape) * RNG.choice([-1.0, 1.0], shape))


@pytest.mark.parametrize("shape", [(), (2, 3), (0,)], ids=str)
@pytest.mark.parametrize("name,fn,gen", elementwise.UNARY, ids=[u[0] for u in elementwise.UNARY])
def test_unary(name, fn, gen, shape):
    check_on_device(fn, gen(*shape))


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 1, 3), (4, 1)), ((), (2, 3)), ((2, 3), ())], ids=str)
@pytest.mark.parametrize("name,fn", elementwise.BINARY, ids=[b[0] for b in elementwise.BINARY])
def test_binary(name, fn, shapes):
    check_on_device(fn, normal(*shapes[0]), away_from_zero(*shapes[1]))


@pytest.mark.parametrize("name,fn", elementwise.ROUNDING, ids=[r[0] for r in elementwise.ROUNDING])
def test_rounding(name, fn):
    check_on_device(fn, np.array([[1.5, -2.5, 0.25], [-0.75, 2.0, 3.49]]))


@pytest.mark.parametrize("a,b", [(elementwise.INT_A, elementwise.INT_B), (elementwise.FLOAT_A, elementwise.FLOAT_B)],
                         ids=["int", "float"])
@pytest.mark.parametrize("name,fn", elementwise.FLOOR_REM, ids=[f[0] for f in elementwise.FLOOR_REM])
def test_floordiv_and_remainder(name, fn, a, b):
    check_on_device(fn, a, b, grad=False)


@pytest.mark.parametrize("name,fn", elementwise.COMPARISONS, ids=[c[0] for c in elementwise.COMPARISONS])
def test_comparisons(name, fn):
    check_on_device(fn, RNG.integers(-2, 3, (2, 3)).astype(np.float64), RNG.integers(-2, 3, (3,)).astype(np.float64))


@pytest.mark.parametrize("name", sorted(reduction.REDUCTIONS))
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": (0, 2), "keepdim": True}], ids=str)
def test_reductions(name, kw):
    fn = reduction.REDUCTIONS[name]
    check_on_device(lambda L, t: fn(L, t, kw), normal(2, 3, 4))


@pytest.mark.parametrize("name", sorted(reduction.SINGLE_DIM))
@pytest.mark.parametrize("kw", [{}, {"dim": 1, "keepdim": True}], ids=str)
def test_single_dim_reductions(name, kw):
    fn = reduction.SINGLE_DIM[name]
    check_on_device(lambda L, t: fn(L, t, kw), normal(2, 3, 4))


@pytest.mark.parametrize("name", sorted(reduction.EXTREMES))
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": 0, "keepdim": True}], ids=str)
def test_extremes(name, kw):
    fn = reduction.EXTREMES[name]
    check_on_device(lambda L, t: fn(L, t, kw), np.array([[1.0, 3.0, 3.0], [2.0, -2.0, 2.0]]))


@pytest.mark.parametrize("name,fn", reduction.ZERO_SIZE, ids=[z[0] for z in reduction.ZERO_SIZE])
def test_reductions_of_zero_size(name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's empty-mean and log(0) warnings, as on the CPU
        check_on_device(fn, normal(0, 3))


@pytest.mark.parametrize("name,fn", shape_ops.SHAPE_OPS, ids=[s[0] for s in shape_ops.SHAPE_OPS])
def test_shape_ops(name, fn):
    check_on_device(fn, shape_ops.X)


@pytest.mark.parametrize("name,fn", shape_ops.INDEXES, ids=[i[0] for i in shape_ops.INDEXES])
def test_indexing(name, fn):
    check_on_device(fn, shape_ops.Y)


@pytest.mark.parametrize("name,fn", shape_ops.SETITEM, ids=[s[0] for s in shape_ops.SETITEM])
def test_index_assignment(name, fn):
    check_on_device(shape_ops.assigning(fn), normal(4, 5, 3), normal(3, 5, 3))


@pytest.mark.parametrize("name,fn", shape_ops.GATHER_SCATTER, ids=[g[0] for g in shape_ops.GATHER_SCATTER])
def test_gather_scatter(name, fn):
    check_on_device(fn, normal(3, 4), normal(2, 4))


@pytest.mark.parametrize("name,fn", shape_ops.JOIN, ids=[j[0] for j in shape_ops.JOIN])
def test_join_split(name, fn):
    check_on_device(fn, normal(2, 3), normal(2, 3))


@pytest.mark.parametrize("name,fn", linalg.FORMS, ids=[f[0] for f in linalg.FORMS])
@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((4,), (4,)), ((2, 3, 4), (4,)), ((2, 1, 3, 4), (5, 4, 2))],
                         ids=str)
def test_matmul(name, fn, shapes):
    check_on_device(fn, normal(*shapes[0]), normal(*shapes[1]))


@pytest.mark.parametrize("name,fn,sa,sb", linalg.OTHER, ids=[o[0] for o in linalg.OTHER])
def test_products(name, fn, sa, sb):
    check_on_device(fn, normal(*sa), normal(*sb))


@pytest.mark.parametrize("equation,sa,sb", linalg.EINSUM, ids=[e[0] for e in linalg.EINSUM])
def test_einsum(equation, sa, sb):
    if sb is None:
        check_on_device(lambda L, a: L.einsum(equation, a), normal(*sa))
    else:
        check_on_device(lambda L, a, b: L.einsum(equation, a, b), normal(*sa), normal(*sb))


@pytest.mark.parametrize("name,fn", softmax.FORMS, ids=[f[0] for f in softmax.FORMS])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((2, 3, 4), 1), ((2, 3), -1)], ids=str)
def test_softmax(name, fn, shape, dim):
    check_on_device(lambda L, x: fn(L, x, dim), normal(*shape))


MORE = [
    ("prod-with-zeros", lambda L, x: (x * (x > 0)).prod(1)),
    ("prod-all-with-zeros", lambda L, x: (x * (x > 0)).prod()),
    ("cumprod-with-zeros", lambda L, x: (x * (x > 0)).cumprod(2)),
    ("max_pool2d-indices", lambda L, x: L.nn.functional.max_pool2d(x.reshape(1, 2, 3, 4), 2, return_indices=True)),
    ("half-with-a-number", lambda L, x: (x.half() / 3.0).double() * x),
    ("index_put_-accumulate", lambda L, x: (x * 1).index_put_((L.tensor([0, 1, 0]),), x[:1] * 2, accumulate=True)),
]


@pytest.mark.parametrize("name,fn", MORE, ids=[m[0] for m in MORE])
def test_more_paths(name, fn):
    check_on_device(fn, shape_ops.X)


@pytest.mark.parametrize("change", ["saved input", "self times self"])
def test_in_place_changes_of_saved_values_are_caught_on_the_device(change):
    import chainrule
    from device_parity import on_device

    def run(device):
        x = chainrule.ones(3, device=device, requires_grad=True)
        y = x * 2
        if change == "saved input":
            z = y * y
            y.mul_(2)
        else:
            z = y.mul_(y)
        with pytest.raises(RuntimeError) as error:
            z.sum().backward()
        return str(error.value)

    expected = run("cpu")
    with on_device():
        assert run("cuda") == expected


@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
@pytest.mark.parametrize("name,values,fn", fft_ops.TRANSFORMS, ids=[t[0] for t in fft_ops.TRANSFORMS])
def test_fft(name, values, fn, norm):
    check_on_device(lambda L, x: fn(L, x, norm), values)


@pytest.mark.parametrize("name,fn", complex_ops.CASES, ids=[c[0] for c in complex_ops.CASES])
def test_complex(name, fn):
    check_on_device(fn, complex_ops.Z, complex_ops.W, complex_ops.X)
