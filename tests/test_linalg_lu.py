"""linalg.lu_factor(_ex), lu, lu_solve, torch.lu, lu_unpack, lu_solve and matrix_exp
(ops/lu.py, factorizations.py) against PyTorch in float64: factors, pivots, infos, solutions,
gradients and the errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import numpy_openblas
from op_parity import check

RNG = np.random.default_rng(23)
SHAPES = [(4, 4), (2, 3, 5, 5), (5, 3), (3, 5), (2, 6, 4), (2, 3, 6), (70, 45), (2, 40, 70)]  # (the last two: blocked)


@pytest.fixture(autouse=True, params=["lapack", "numpy"])
def factorization(request, monkeypatch):
    """Every test twice: with LAPACK's getrf from NumPy's OpenBLAS (where this NumPy bundles
    it) and with the NumPy-only factorization that runs where it does not."""
    if request.param == "numpy":
        monkeypatch.setattr(numpy_openblas, "getrf", lambda a: None)
    return request.param


@pytest.mark.parametrize("shape", SHAPES)
def test_lu_factor_pivots_and_gradients(shape):
    a = RNG.standard_normal(shape)
    check(lambda L, x: list(L.linalg.lu_factor_ex(x)), a)
    check(lambda L, x: list(L.linalg.lu_factor(x)), a)
    check(lambda L, x: list(L.linalg.lu(x)), a)
    check(lambda L, x: list(L.lu_unpack(*L.linalg.lu_factor(x))), a)


def test_pivot_choice_on_ties_and_zero_pivots_like_lapack():
    tied = np.array([[1.0, 2.0, 3.0], [-1.0, 5.0, 1.0], [1.0, 0.0, 2.0]])
    check(lambda L, x: list(L.linalg.lu_factor_ex(x)), tied)
    singular = np.array([[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 3.0]], [[2.0, 1.0], [1.0, 1.0]]])
    check(lambda L, x: list(L.linalg.lu_factor_ex(x)), singular, grad=False)
    check(lambda L, x: list(L.linalg.lu_factor_ex(x)), np.zeros((3, 3)), grad=False)
    info = chainrule.linalg.lu_factor_ex(chainrule.tensor(singular)).info
    assert info.tolist() == [2, 1, 0]


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_values_and_gradients(left, adjoint):
    a = RNG.standard_normal((2, 4, 4))
    b = RNG.standard_normal((2, 4, 3) if left else (2, 3, 4))

    def solve(L, x, y):
        factor, pivots = L.linalg.lu_factor(x)
        return L.linalg.lu_solve(factor, pivots, y, left=left, adjoint=adjoint)

    check(solve, a, b)
    check(solve, a[0], b)  # (batch dims broadcast)
    if left:
        names = {type(solve(L, L.tensor(a, requires_grad=True), L.tensor(b)).grad_fn).__name__
                 for L in (torch, chainrule)}
        assert names == {"LinalgLuSolveBackward0"}


def test_top_level_lu_forms():
    a, b = RNG.standard_normal((3, 4, 4)), RNG.standard_normal((3, 4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda L, x, y: L.lu_solve(y, *L.linalg.lu_factor(x)), a, b)
        check(lambda L, x, y: y.lu_solve(*x.lu()), a, b)
        check(lambda L, x: list(L.lu(x, get_infos=True)), a)
        check(lambda L, x: list(x.lu()), a)
    with pytest.warns(UserWarning, match="torch.lu is deprecated"):  # (PyTorch's warn once per process)
        chainrule.lu(chainrule.tensor(a))
    with pytest.warns(UserWarning, match="torch.lu_solve is deprecated in favor of torch.linalg.lu_solve"):
        chainrule.lu_solve(chainrule.tensor(b), *chainrule.linalg.lu_factor(chainrule.tensor(a)))
    factor, pivots = chainrule.linalg.lu_factor(chainrule.tensor(a))
    assert [t.numel() for t in chainrule.lu_unpack(factor, pivots, unpack_data=False)[1:]] == [0, 0]
    assert chainrule.lu_unpack(factor, pivots, unpack_pivots=False).P.numel() == 0
    assert chainrule.linalg.lu_factor_ex(factor)._fields == ("LU", "pivots", "info")
    assert chainrule.linalg.lu(factor)._fields == ("P", "L", "U")


def test_singular_solutions_and_errors_like_pytorch():
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    check(lambda L, x, y: L.linalg.lu_solve(*L.linalg.lu_factor_ex(x)[:2], y), singular, np.ones((2, 1)), grad=False)
    eye = np.eye(3)
    for make in (lambda L: L.linalg.lu_factor(L.tensor(singular)),
                 lambda L: L.linalg.lu_factor(L.tensor(singular[None])),
                 lambda L: L.linalg.lu_factor_ex(L.tensor(singular[None]), check_errors=True),
                 lambda L: L.linalg.lu_factor(L.zeros(3)), lambda L: L.linalg.lu(L.zeros(3)),
                 lambda L: L.linalg.lu_factor(L.eye(3), pivot=False),
                 lambda L: L.linalg.lu_solve(L.tensor(eye), L.ones(2, dtype=L.int32), L.ones(3, 1, dtype=L.float64)),
                 lambda L: L.linalg.lu_solve(L.tensor(eye), L.ones(3, dtype=L.int32), L.ones(2, 1, dtype=L.float64)),
                 lambda L: L.linalg.lu_solve(L.tensor(eye), L.ones(3, dtype=L.int32), L.ones(3, dtype=L.float64)),
                 lambda L: L.linalg.lu_solve(L.ones(3, 2), L.ones(2, dtype=L.int32), L.ones(3, 1)),
                 lambda L: L.linalg.lu_solve(L.tensor(eye), L.ones(3, dtype=L.int32), L.ones(3, 1)),
                 lambda L: L.linalg.matrix_exp(L.zeros(2, 3)), lambda L: L.linalg.matrix_exp(L.zeros(3)),
                 lambda L: L.linalg.matrix_exp(L.zeros(3, 3, dtype=L.int64))):
        with pytest.raises(RuntimeError) as theirs:
            make(torch)
        with pytest.raises(RuntimeError) as ours:
            make(chainrule)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(NotImplementedError, match="lu_cpu"):
        chainrule.linalg.lu_factor(chainrule.zeros(3, 3, dtype=chainrule.int64))


@pytest.mark.parametrize("scale", [0.005, 0.2, 0.9, 2.0, 5.0, 40.0])
def test_matrix_exp_values_and_gradients(scale):
    a = scale * RNG.standard_normal((2, 4, 4)) / 2
    check(lambda L, x: L.linalg.matrix_exp(x), a, rtol=1e-12, atol=1e-12 * max(1.0, np.exp(2 * scale * 2)))
    check(lambda L, x: x.matrix_exp(), a[0], rtol=1e-10, atol=1e-10 * max(1.0, np.exp(2 * scale * 2)))
    check(lambda L, x: L.matrix_exp(x), np.zeros((0, 3, 3)))


def test_matrix_exp_of_a_rotation_generator_and_float32():
    theta = 0.7
    generator = np.array([[0.0, -theta], [theta, 0.0]])
    rotation = chainrule.linalg.matrix_exp(chainrule.tensor(generator)).numpy()
    np.testing.assert_allclose(rotation, [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]],
                               rtol=1e-15, atol=1e-15)
    a = RNG.standard_normal((3, 5, 5)).astype(np.float32)
    ours = chainrule.linalg.matrix_exp(chainrule.tensor(a))
    assert ours.dtype == chainrule.float32
    np.testing.assert_allclose(ours.numpy(), torch.linalg.matrix_exp(torch.tensor(a)).numpy(), rtol=1e-5, atol=1e-5)


def test_matrix_exp_second_derivatives():
    a = RNG.standard_normal((2, 3, 3))
    weights = RNG.standard_normal((2, 3, 3))

    def second(L, x):  # the gradient of a function of matrix_exp's gradient (create_graph)
        first, = L.autograd.grad((L.linalg.matrix_exp(x) * L.tensor(weights)).sum(), x, create_graph=True)
        return first

    check(second, a, rtol=1e-10, atol=1e-10)


def test_complex_factors_and_exponentials():  # (values only: chainrule has no complex gradients yet)
    a = RNG.standard_normal((2, 5, 5)) + 1j * RNG.standard_normal((2, 5, 5))
    ours, theirs = chainrule.linalg.lu_factor_ex(chainrule.tensor(a)), torch.linalg.lu_factor_ex(torch.tensor(a))
    np.testing.assert_array_equal(ours.pivots.numpy(), theirs.pivots.numpy())  # (pivots by |re| + |im|)
    np.testing.assert_allclose(ours.LU.numpy(), theirs.LU.numpy(), atol=1e-12)
    np.testing.assert_allclose(chainrule.linalg.matrix_exp(chainrule.tensor(a)).numpy(),
                               torch.linalg.matrix_exp(torch.tensor(a)).numpy(), rtol=1e-12, atol=1e-12)
