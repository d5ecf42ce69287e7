"""explain(): the chain rule step by step, checked against backward and finite differences."""
import importlib
import pkgutil

import numpy as np
import pytest

import chainrule
import chainrule.ops
from chainrule.autograd.function import Op
from chainrule.ops import elementwise as E
from chainrule.viz import explain, trace
from chainrule.viz._walk import GraphFreed


def classic_with_names():
    w = chainrule.tensor([2.0], requires_grad=True)
    x = chainrule.tensor([5.0])
    y = chainrule.tensor([12.0])
    with trace():
        net = w * x
        out = y - net
        loss = out ** 2
    net.name, out.name, loss.name, w.name = "net", "out", "L", "w"
    return w, loss


def test_classic_example_step_by_step():
    w, loss = classic_with_names()
    result = explain(loss, w)
    assert result.gradient.item() == -20.0 and result.autograd.item() == -20.0
    assert result.finite_difference.item() == pytest.approx(-20.0, rel=1e-6)
    assert result.ok
    (path,) = result.paths
    assert [s.op for s in path.steps] == ["Pow", "Sub", "Mul"]
    assert [s.node for s in path.steps] == ["PowBackward0", "SubBackward0", "MulBackward0"]
    assert [s.formula for s in path.steps] == [E.PowScalar.derivative[0], E.Sub.derivative[1], E.Mul.derivative[0]]
    assert [s.value.item() for s in path.steps] == [4.0, 2.0, 10.0]
    assert [s.upstream.item() for s in path.steps] == [1.0, 4.0, -4.0]
    assert [s.local.item() for s in path.steps] == [4.0, -1.0, 5.0]
    assert [s.product.item() for s in path.steps] == [4.0, -4.0, -20.0]
    chain = result.chain()
    assert chain.splitlines() == [
        "∂L/∂w = ∂L/∂out · ∂out/∂net · ∂net/∂w",
        "      = 4 · (-1) · 5",
        "      = -20",
    ]
    text = str(result)
    assert "d tanh" not in text and "d(a^c)/da = c*a^(c-1)" in text and "d(a-b)/db = -1" in text
    assert "backward (autograd.grad) gives -20 ✓" in text and "finite differences (float64) give -20 ✓" in text


def test_tutorial_code_without_trace_names_variables_and_still_checks_backward():
    w = chainrule.tensor([2.0], requires_grad=True)
    x = chainrule.tensor([5.0])
    y_actual = chainrule.tensor([12.0])
    y_pred = w * x
    loss = (y_actual - y_pred) ** 2
    result = explain(loss, w)
    assert result.gradient.item() == -20.0 and result.matches_autograd
    assert result.finite_difference is None and "trace" in result.fd_note
    assert result.chain().splitlines()[0] == "∂loss/∂w = ∂loss/∂u1 · ∂u1/∂y_pred · ∂y_pred/∂w"
    assert [s.value.item() for s in result.paths[0].steps] == [4.0, 2.0, 10.0]
    # explain ran no backward into .grad
    assert w.grad is None


def test_a_function_is_traced_so_finite_differences_work():
    w = chainrule.tensor(0.3, dtype=chainrule.float64, requires_grad=True)
    result = explain(lambda: chainrule.tanh(w * 2.0 + 1.0) ** 2, w)
    t = np.tanh(0.6 + 1.0)
    expected = 2 * t * (1 - t * t) * 2.0
    assert result.gradient.item() == pytest.approx(expected, rel=1e-12)
    assert result.finite_difference.item() == pytest.approx(expected, rel=1e-7)
    step = result.paths[0].steps[1]
    assert step.op == "Tanh" and step.formula == "d tanh(u)/du = 1 - tanh(u)^2"
    assert step.local.item() == pytest.approx(1 - t * t)


def test_several_paths_are_shown_and_summed():
    x = chainrule.tensor(0.7, dtype=chainrule.float64, requires_grad=True)
    result = explain(lambda: x * x + chainrule.sin(x), x)
    assert result.path_count == 3 and len(result.paths) == 3
    contributions = sorted(p.gradient.item() for p in result.paths)
    assert contributions == pytest.approx(sorted([0.7, 0.7, np.cos(0.7)]))
    assert result.gradient.item() == pytest.approx(1.4 + np.cos(0.7))
    assert result.ok
    chain = result.chain()
    assert "along 3 paths" in chain and "sum:" in chain
    assert chain.splitlines()[-1].endswith(f"= {1.4 + np.cos(0.7):.5g}")


def test_index_follows_one_element():
    x = chainrule.tensor([0.5, -1.0, 2.0], dtype=chainrule.float64, requires_grad=True)
    result = explain(lambda: (chainrule.exp(x) * x).sum(), x, index=2)
    expected = np.exp(2.0) * 3.0
    assert result.gradient.item() == pytest.approx(expected)
    assert result.finite_difference.item() == pytest.approx(expected, rel=1e-6)
    for path in result.paths:
        assert all(np.size(s.product) == 1 for s in path.steps)
    assert "∂L/∂x[2]" in result.chain()
    with pytest.raises(IndexError, match="out of range"):
        explain(lambda: (x * 2).sum(), x, index=3)


def test_matrix_steps_are_jacobians_and_the_totals_still_check():
    rng = np.random.default_rng(1)
    W = chainrule.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    v = chainrule.tensor(rng.normal(size=4))
    result = explain(lambda: chainrule.tanh(W @ v).pow(2).mean(), W)
    assert result.ok and result.finite_difference.shape == (3, 4)
    steps = result.paths[0].steps
    assert steps[-1].op == "Matmul" and steps[-1].local is None and "Jacobian" in result.table()
    assert steps[0].op == "Mean" and np.allclose(steps[0].local, 1 / 3)   # a row of 1/N


def test_large_inputs_check_a_sample_of_elements():
    x = chainrule.tensor(np.linspace(-1, 1, 100), requires_grad=True)
    result = explain(lambda: (chainrule.sin(x) ** 2).sum(), x)
    assert result.ok
    assert np.isnan(result.finite_difference).sum() == 100 - 32
    assert "32 of 100 elements" in result.fd_note


def test_input_that_does_not_reach_the_loss():
    a = chainrule.tensor(1.0, requires_grad=True)
    b = chainrule.tensor(2.0, requires_grad=True)
    result = explain(lambda: a * 3.0 + b * 0.0 + b, a)
    assert result.gradient.item() == 3.0
    c = chainrule.tensor(1.0, requires_grad=True)
    result = explain(lambda: b * 2.0, c)
    assert result.path_count == 0 and result.gradient.item() == 0.0
    assert "does not reach" in result.chain()


def test_errors():
    w, loss = classic_with_names()
    with pytest.raises(ValueError, match="scalar"):
        explain(w * chainrule.ones(3), w)
    with pytest.raises(ValueError, match="require grad"):
        explain(loss, chainrule.tensor([1.0]))
    loss.backward()
    with pytest.raises(GraphFreed, match="retain_graph"):
        explain(loss, w)


def _random_expression(rng, leaves, depth):
    if depth == 0 or rng.random() < 0.2:
        return leaves[rng.integers(len(leaves))]
    kind = rng.integers(9)
    a = _random_expression(rng, leaves, depth - 1)
    if kind == 0:
        return chainrule.sin(a)
    if kind == 1:
        return chainrule.tanh(a)
    if kind == 2:
        return chainrule.sigmoid(a)
    if kind == 3:
        return chainrule.exp(chainrule.cos(a))
    if kind == 4:
        return a * float(rng.normal())
    b = _random_expression(rng, leaves, depth - 1)
    if kind == 5:
        return a + b
    if kind == 6:
        return a - b
    if kind == 7:
        return a * b
    return a / (1.0 + b * b)


@pytest.mark.parametrize("seed", range(25))
def test_random_expressions_match_backward_and_finite_differences(seed):
    rng = np.random.default_rng(seed)
    leaves = [chainrule.tensor(rng.normal(size=2), requires_grad=True) for _ in range(3)]
    with trace():
        loss = _random_expression(rng, leaves, 5).sum() + (leaves[0] * 0.5).sum()
    for leaf in leaves:
        if not loss.requires_grad:
            continue
        result = explain(loss, leaf, max_paths=64)
        assert result.matches_autograd
        assert result.matches_finite_difference
        if result.paths:
            assert np.allclose(sum(p.gradient for p in result.paths), result.autograd)


def _ops():
    for info in pkgutil.iter_modules(chainrule.ops.__path__):
        importlib.import_module(f"chainrule.ops.{info.name}")
    found, stack = [], list(Op.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.differentiable and not cls.__name__.startswith("_"):
            found.append(cls)
    return found


def test_every_core_op_has_readable_derivative_formulas():
    ops = _ops()
    assert len(ops) > 40
    for cls in ops:
        formulas = cls.derivative
        assert formulas and any(formulas), f"{cls.__name__} has no derivative formula"
        for text in formulas:
            assert text == "" or text.startswith("d"), f"{cls.__name__}: {text!r}"
