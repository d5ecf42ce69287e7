"""Arithmetic between a tensor and a Python number (``x * 2.0``, ``1 - x``, ``x ** 3`` ...):
chainrule records these as ops of their own with one edge, as PyTorch does.  Their dtypes,
values, graph structure, saved-value lifetime and higher derivatives must be PyTorch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close, pair

OPERATORS = {
    "add": lambda t, c: t + c,
    "radd": lambda t, c: c + t,
    "sub": lambda t, c: t - c,
    "rsub": lambda t, c: c - t,
    "mul": lambda t, c: t * c,
    "rmul": lambda t, c: c * t,
    "div": lambda t, c: t / c,
    "pow": lambda t, c: t ** c,
}
VALUES = {"float32": [1.5, -2.0], "float64": [1.5, -2.0], "float16": [1.5, -2.0],
          "int64": [3, -2], "int32": [3, -2], "uint8": [3, 1], "bool": [True, False]}


# PyTorch refuses subtraction on bool tensors; bool ** int is int8 in NumPy but int64 in
# PyTorch (for tensor ** tensor too): not cases of the scalar path.
CASES = [(dtype, op) for dtype in VALUES for op in OPERATORS
         if not (dtype == "bool" and op in ("sub", "rsub", "pow"))]


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning",
                            "ignore:overflow:RuntimeWarning")  # NumPy warns where PyTorch is silent
@pytest.mark.parametrize("dtype, op", CASES)
@pytest.mark.parametrize("shape", [(), (2,)], ids=["0d", "1d"])
@pytest.mark.parametrize("number", [2, 0.5, 0, 3], ids=["int", "float", "zero", "odd"])
def test_dtype_and_values_match_torch(dtype, shape, number, op):
    values = np.array(VALUES[dtype][0] if shape == () else VALUES[dtype], dtype=dtype)
    fn = OPERATORS[op]
    expected = fn(torch.tensor(values), number)
    actual = fn(chainrule.tensor(values), number)
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(actual.shape) == tuple(expected.shape)
    assert type(actual.numpy()) is np.ndarray
    np.testing.assert_allclose(actual.numpy().astype(np.float64),
                               expected.numpy().astype(np.float64), rtol=1e-3)


@pytest.mark.parametrize("op", OPERATORS)
def test_gradients_and_node_names_match_torch(op):
    fn = OPERATORS[op]
    cx, tx = pair([0.5, 1.5, 2.0])
    cy, ty = fn(cx, 2.5), fn(tx, 2.5)
    assert_close(cy, ty)
    assert cy.grad_fn.name() == type(ty.grad_fn).__name__  # MulBackward0, RsubBackward1 ...
    seed = np.array([1.0, -2.0, 0.5])
    cy.backward(chainrule.tensor(seed))
    ty.backward(torch.tensor(seed))
    assert_close(cx.grad, tx.grad)


def test_the_number_has_no_edge():
    x = chainrule.tensor([1.0], requires_grad=True)
    assert (x * 2.0).grad_fn.edges == (x, None)
    assert (2.0 * x).grad_fn.edges == (x, None)
    y = x.exp()
    assert (y + 1).grad_fn.edges == (y.grad_fn, None)


@pytest.mark.parametrize("op, raises", [("mul", True), ("rmul", True), ("div", True), ("pow", True),
                                        ("add", False), ("radd", False), ("sub", False), ("rsub", False)])
def test_second_backward_frees_what_torch_frees(op, raises):
    # PyTorch saves the number of mul/div (and the base of pow), not that of add/sub: only the
    # former raise on a second backward without retain_graph.
    fn = OPERATORS[op]
    for lib in (torch, chainrule):
        x = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
        y = fn(x, 2.0)
        y.backward()
        if raises:
            with pytest.raises(RuntimeError, match="second time"):
                y.backward()
        else:
            y.backward()
            assert x.grad.item() == pytest.approx(-2.0 if op == "rsub" else 2.0)


def test_third_derivative_through_scalar_ops_matches_torch():
    def f(x):
        return (3.0 - x * 0.5) ** 3 / 2.0 + 1.0

    cx, tx = pair([0.3, -1.2, 2.0])
    results = []
    for x in (cx, tx):
        lib = chainrule if x is cx else torch
        (g1,) = lib.autograd.grad(f(x).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        results.append((g1, g2, g3))
    for c, t in zip(*results):
        assert_close(c, t)


def test_pow_base_changed_in_place_names_both_ops():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = h ** 2
    h.add_(1.0)
    with pytest.raises(RuntimeError) as error:
        y.sum().backward()
    message = str(error.value)
    assert "PowBackward" in message and "add_" in message


def test_scalar_op_under_no_grad_says_where_the_graph_was_cut():
    x = chainrule.tensor([1.0], requires_grad=True)
    with chainrule.no_grad():
        y = x * 2.0
    with pytest.raises(RuntimeError, match=r"Mul \(computed under no_grad\)"):
        (y + 1).sum().backward()


def test_non_float_tensor_times_float_is_the_default_float():
    x = chainrule.tensor([1, 2, 3])
    assert (x * 0.5).dtype == chainrule.float32
    assert (x / 2).dtype == chainrule.float32
    assert (x * 2).dtype == chainrule.int64
    chainrule.set_default_dtype(chainrule.float64)
    try:
        assert (x * 0.5).dtype == chainrule.float64
    finally:
        chainrule.set_default_dtype(chainrule.float32)


def test_float16_with_a_number_is_computed_in_float32_and_rounded_once():
    values = np.array([-20.0, -12.0, -5.0, 0.5, 3.0], dtype=np.float16)
    for fn in (lambda L, x: x / 100000, lambda L, x: x * 0.001 + 1, lambda L, x: 2 - x, lambda L, x: x ** 2,
               lambda L, x: L.sigmoid(x), lambda L, x: x / 3):
        expected = fn(torch, torch.tensor(values))
        actual = fn(chainrule, chainrule.tensor(values))
        assert actual.dtype == chainrule.float16
        np.testing.assert_array_equal(actual.numpy(), expected.numpy())


def test_function_nodes_show_only_their_tensor_arguments():
    results = []
    for lib in (torch, chainrule):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k, y):
                ctx.k = k
                return x * k + y

            @staticmethod
            def backward(ctx, g):
                return g * ctx.k, None, g

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([1.0, 1.0], requires_grad=True)
        z = Scale.apply(x, 3.0, y)
        z.grad_fn.register_hook(lambda gi, go: (gi[0] * 10, gi[1]))
        z.sum().backward()
        results.append((len(z.grad_fn.next_functions), x.grad.tolist(), y.grad.tolist()))
    assert results[1] == results[0]
