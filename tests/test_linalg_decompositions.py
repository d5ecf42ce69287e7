"""linalg.cholesky, eigh and eigvalsh (ops/decompositions.py) against PyTorch in float64:
factors, eigenvalues, eigenvectors up to sign, gradients, and the errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from op_parity import check

RNG = np.random.default_rng(17)


def _spd(*batch, n=4):
    m = RNG.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + 0.5 * np.eye(n)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_factor_and_gradient(upper):
    check(lambda L, a: L.linalg.cholesky(a, upper=upper), _spd())
    check(lambda L, a: L.linalg.cholesky(a, upper=upper), _spd(2, 3))
    # a downstream use: the log-determinant of a covariance through its factor
    check(lambda L, a: 2 * L.linalg.cholesky(a).diagonal(dim1=-2, dim2=-1).log().sum(-1), _spd(3))


def test_eigh_values_vectors_up_to_sign_and_gradients():
    weights = RNG.standard_normal((2, 4, 4))

    def sign_free(L, a):  # eigenvectors are defined up to sign: use their squares
        values, vectors = L.linalg.eigh(a)
        return [values, vectors * vectors, (vectors * vectors * L.tensor(weights)).sum() + values.sum()]

    check(sign_free, _spd(2))
    check(lambda L, a: L.linalg.eigh(a, UPLO="U").eigenvalues, _spd(2) + np.triu(RNG.standard_normal((4, 4)), 1))
    check(lambda L, a: L.linalg.eigvalsh(a), _spd(3))
    # equal eigenvalues: the eigenvalues' gradient is still defined (no 0/0)
    check(lambda L, a: L.linalg.eigvalsh(a), np.diag([2.0, 2.0, 3.0]))
    matrices = _spd(2)
    ours = chainrule.linalg.eigh(chainrule.tensor(matrices))
    reconstructed = (ours.eigenvectors * ours.eigenvalues.unsqueeze(-2)) @ ours.eigenvectors.mT  # V diag(w) V^T
    assert isinstance(ours, tuple) and ours._fields == ("eigenvalues", "eigenvectors")
    np.testing.assert_allclose(reconstructed.numpy(), matrices, atol=1e-10)


def test_errors_like_pytorch():
    for make in (lambda L: L.linalg.cholesky(L.tensor([[1.0, 2.0], [2.0, 1.0]])),
                 lambda L: L.linalg.cholesky(L.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, -1.0]]])),
                 lambda L: L.linalg.cholesky(L.zeros(2, 3)), lambda L: L.linalg.cholesky(L.zeros(3)),
                 lambda L: L.linalg.eigh(L.eye(2), UPLO="X"), lambda L: L.linalg.eigh(L.zeros(2, 3))):
        with pytest.raises(RuntimeError) as theirs:  # (PyTorch's LinAlgError is a RuntimeError, as ours)
            make(torch)
        with pytest.raises(RuntimeError) as ours:
            make(chainrule)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(chainrule.linalg.LinAlgError, match="leading minor of order 2"):
        chainrule.linalg.cholesky(chainrule.tensor([[1.0, 2.0], [2.0, 1.0]]))


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 4), (2, 3, 2)])
@pytest.mark.parametrize("full_matrices", [False, True])
def test_svd_values_and_gradients_of_sign_free_uses(shape, full_matrices):
    k = min(shape[-2:])
    weights_u = RNG.standard_normal(shape[:-2] + (shape[-2], k))
    weights_v = RNG.standard_normal(shape[:-2] + (k, shape[-1]))

    def sign_free(L, a):  # a singular pair's signs flip together: use squares and the rank-one pieces
        u, s, vh = L.linalg.svd(a, full_matrices=full_matrices)
        u, vh = u[..., :, :k], vh[..., :k, :]
        first = u[..., :, :1] * vh[..., :1, :]
        return [s, u * u * L.tensor(weights_u), vh * vh * L.tensor(weights_v), first]

    check(sign_free, RNG.standard_normal(shape))
    check(lambda L, a: L.linalg.svdvals(a), RNG.standard_normal(shape))
    matrices = RNG.standard_normal(shape)
    u, s, vh = chainrule.linalg.svd(chainrule.tensor(matrices), full_matrices=full_matrices)
    theirs = torch.linalg.svd(torch.tensor(matrices), full_matrices=full_matrices)
    assert [tuple(x.shape) for x in (u, s, vh)] == [tuple(x.shape) for x in theirs]
    np.testing.assert_allclose(((u[..., :, :k] * s.unsqueeze(-2)) @ vh[..., :k, :]).numpy(), matrices, atol=1e-12)
    for q in (u, vh.mT):  # orthonormal columns of U and rows of Vh, the full forms' completions included
        np.testing.assert_allclose((q.mT @ q).numpy(), np.broadcast_to(np.eye(q.shape[-1]), q.mT.shape[:-1] + (q.shape[-1],)),
                                   atol=1e-12)


def test_svdvals_of_equal_singular_values_has_a_gradient():
    check(lambda L, a: L.linalg.svdvals(a), np.diag([2.0, 2.0, 1.0]))


RANK_TWO = RNG.standard_normal((4, 2)) @ RNG.standard_normal((2, 3))


@pytest.mark.parametrize("matrix", [RNG.standard_normal((2, 4, 3)), RNG.standard_normal((3, 5)), RANK_TWO,
                                    RANK_TWO.T, np.zeros((3, 2)), np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])],
                         ids=["batch", "wide", "rank-2", "rank-2-wide", "zeros", "rank-1"])
def test_pinv_and_its_gradient_also_where_the_rank_drops(matrix):
    # PyTorch's gradient formula (not the SVD's): finite and equal for rank-deficient inputs.
    check(lambda L, a: L.linalg.pinv(a), matrix)
    check(lambda L, a: L.linalg.pinv(a, rtol=0.3), matrix)
    check(lambda L, a: L.linalg.pinv(a, atol=0.5, rtol=0.1), matrix)


def test_hermitian_pinv_and_matrix_rank():
    symmetric = RNG.standard_normal((3, 3))
    symmetric = symmetric + symmetric.T
    check(lambda L, a: L.linalg.pinv(a, hermitian=True), symmetric)
    check(lambda L, a: [L.linalg.matrix_rank(a), L.linalg.matrix_rank(a, atol=1.0, rtol=0.0),
                        L.linalg.matrix_rank(a, rtol=0.9)], RANK_TWO, grad=False)
    check(lambda L, a: [L.linalg.matrix_rank(a), L.linalg.matrix_rank(a, hermitian=True)], symmetric, grad=False)
    check(lambda L, a: L.linalg.matrix_rank(a), RNG.standard_normal((2, 3, 4)), grad=False)


@pytest.mark.parametrize("matrix", [np.zeros((3, 2)), np.zeros((2, 3)), np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])],
                         ids=["zeros-tall", "zeros-wide", "rank-1"])
def test_svdvals_gradient_at_zero_singular_values(matrix):
    check(lambda L, a: L.linalg.svdvals(a), matrix)


# -- QR, triangular solves, least squares and PyTorch's older spellings ---------------------------

@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 5, 3), (2, 3, 4)])
def test_qr_factors_and_gradients(shape):
    a = RNG.standard_normal(shape)
    check(lambda L, a: list(L.linalg.qr(a)), a)
    check(lambda L, a: L.linalg.qr(a).R.sum(-1), a)  # (R alone: Q's gradient is zero)
    check(lambda L, a: list(L.qr(a)), a)
    check(lambda L, a: list(L.linalg.qr(a, mode="complete")), a, grad=shape[-2] <= shape[-1])
    check(lambda L, a: [tuple(L.linalg.qr(a, mode="r").Q.shape), L.linalg.qr(a, mode="r").R], a, grad=False)


def test_qr_errors_like_pytorch():
    for lib in (torch, chainrule):
        a = lib.tensor(RNG.standard_normal((5, 3)), requires_grad=True)
        with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
            lib.linalg.qr(a, mode="complete").Q.sum().backward()
        with pytest.raises(RuntimeError, match="depends on Q, which is not computed when mode='r'"):
            lib.linalg.qr(a, mode="r").R.sum().backward()
        with pytest.raises(RuntimeError, match="unrecognized mode 'full'"):
            lib.linalg.qr(a, mode="full")


@pytest.mark.parametrize("upper, left, unitriangular", [(True, True, False), (False, True, False),
                                                        (True, False, False), (False, False, True)])
def test_solve_triangular_reads_only_its_triangle(upper, left, unitriangular):
    a = RNG.standard_normal((4, 4)) + 3 * np.eye(4)  # (the other triangle holds noise: it must be ignored)
    b = RNG.standard_normal((2, 4, 3) if left else (2, 3, 4))
    check(lambda L, a, b: L.linalg.solve_triangular(a, b, upper=upper, left=left, unitriangular=unitriangular), a, b)
    check(lambda L, a, b: L.triangular_solve(b[0] if left else b[0].mT, a, upper=upper).solution, a, b)


def test_solve_triangular_with_a_zero_on_the_diagonal_gives_infinities_as_pytorch():
    a = np.triu(RNG.standard_normal((3, 3)))
    a[1, 1] = 0.0
    check(lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True), a, np.ones((3, 1)), grad=False)


@pytest.mark.parametrize("driver", [None, "gels", "gelsd", "gelss"])
def test_lstsq_fills_what_each_driver_fills(driver):
    a, b = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 2))
    check(lambda L, a, b: list(L.linalg.lstsq(a, b, driver=driver)), a, b)
    check(lambda L, a, b: L.linalg.lstsq(a, b[:, 0], driver=driver).solution, a, b)  # a vector right-hand side
    if driver == "gels":
        return  # (gels assumes full rank: on a deficient A its solution is LAPACK's accident)
    deficient = np.concatenate([a[:, :2], a[:, :1]], axis=1)
    check(lambda L, a, b: [L.linalg.lstsq(a, b, driver=driver).rank, L.linalg.lstsq(a, b, driver=driver).residuals],
          deficient, b, grad=False)


def test_older_spellings():
    a = RNG.standard_normal((4, 3))
    spd = _spd()
    check(lambda L, a: [abs(x) for x in L.svd(a)], a, grad=False)
    check(lambda L, a: L.svd(a).S, a)
    check(lambda L, a: list(L.svd(a, compute_uv=False)), a, grad=False)
    check(lambda L, s, b: L.cholesky_solve(b, L.linalg.cholesky(s)), spd, RNG.standard_normal((4, 2)))
    check(lambda L, s, b: L.cholesky_solve(b, L.linalg.cholesky(s).mT, upper=True), spd, RNG.standard_normal((4, 2)))
    check(lambda L, s: L.cholesky_inverse(L.linalg.cholesky(s)), spd)
    check(lambda L, a: L.pinverse(a), a)
    # (PyTorch's own torch.vander cannot be differentiated: it fails on an in-place change)
    check(lambda L, x: [L.vander(x), L.vander(x, N=2, increasing=True)], np.array([1.0, -2.0, 0.5]), grad=False)
    check(lambda L, x: L.linalg.vander(x, N=4), np.array([1.0, -2.0, 0.5]))
    with pytest.warns(UserWarning, match="torch.cholesky is deprecated"):
        chainrule.cholesky(chainrule.tensor(spd))


def test_linalg_helpers():
    a, b = RNG.standard_normal((4, 4)) + 2 * np.eye(4), RNG.standard_normal((4, 2))
    check(lambda L, a, b: [L.linalg.multi_dot([a[0], a, b, b[0]]), L.linalg.vecdot(a, b[:, :1].mT),
                           L.linalg.matmul(a, b), L.linalg.diagonal(a, offset=1)], a, b)
    check(lambda L, a: [L.linalg.cond(a), L.linalg.cond(a, -2)], a)
    # (PyTorch's own backward of cond in the other norms fails on an in-place change)
    check(lambda L, a: [L.linalg.cond(a, "fro"), L.linalg.cond(a, 1)], a, grad=False)
    check(lambda L, a, b: [L.linalg.solve_ex(a, b).result, L.linalg.cholesky_ex(a @ a.mT).L], a, b)
    check(lambda L, a: L.linalg.inv_ex(a).inverse, a)
    check(lambda L, a: [L.linalg.inv_ex(a).info, L.linalg.cholesky_ex(-a @ a.mT).info], np.zeros((2, 2)) + np.eye(2),
          grad=False)
    for lib in (torch, chainrule):
        with pytest.raises(Exception, match="singular"):
            lib.linalg.inv_ex(lib.zeros(2, 2, dtype=lib.float64), check_errors=True)


def test_ex_forms_cond_and_norms_on_batches_with_a_failing_matrix():
    singular = np.stack([np.eye(3), np.diag([1.0, 0.0, 1.0]), 2 * np.eye(3)])
    indefinite = np.stack([np.eye(3), np.diag([1.0, 1.0, -1.0])])
    check(lambda L, a: [L.linalg.inv_ex(a).info, L.linalg.inv_ex(a).inverse[::2],
                        L.linalg.solve_ex(a, a[0, 0]).info, L.linalg.solve_ex(a, a[0, 0]).result[::2]], singular,
          grad=False)
    check(lambda L, a: [L.linalg.cholesky_ex(a).info, L.linalg.cholesky_ex(a).L[0]], indefinite, grad=False)
    for lib in (torch, chainrule):
        a = lib.tensor(singular)
        for call, message in ((lambda: lib.linalg.inv_ex(a, check_errors=True), "linalg.inv_ex: \\(Batch element 1\\): "
                               "The diagonal element 2 is zero"),
                              (lambda: lib.linalg.inv(a), "linalg.inv: \\(Batch element 1\\): The diagonal element 2"),
                              (lambda: lib.linalg.solve_ex(a, a[0], check_errors=True),
                               "torch.linalg.solve_ex: \\(Batch element 1\\): The solver failed"),
                              (lambda: lib.linalg.cholesky_ex(lib.tensor(indefinite), check_errors=True),
                               "linalg.cholesky_ex: \\(Batch element 1\\): .* leading minor of order 3"),
                              (lambda: lib.linalg.cond(lib.ones(2, 3, dtype=lib.float64), 1),
                               "linalg.cond\\(ord=1\\): A must be batches of square matrices, but they are 2 by 3")):
            with pytest.raises(RuntimeError, match=message):
                call()
    matrices = np.array([[[2.0, 1.0], [1.0, 3.0]], [[1.0, 2.0], [2.0, 4.0]]])
    check(lambda L, a: [L.linalg.cond(a, p) for p in ("fro", "nuc", 1, -1, float("inf"))], matrices, grad=False)
    check(lambda L, a: [L.linalg.matrix_norm(a, "nuc"), L.linalg.matrix_norm(a, 2, keepdim=True),
                        L.linalg.matrix_norm(a, -2, dim=(0, 2))], matrices)


def test_refusals_of_integer_inputs_and_small_vandermonde_matrices():
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError, match="linalg.vecdot: Expected a floating point or complex tensor as input. "
                                               "Got Long"):
            lib.linalg.vecdot(lib.ones(3, dtype=lib.long), lib.ones(3, dtype=lib.long))
        with pytest.raises(RuntimeError, match="linalg.qr: Expected a floating point or complex tensor as input. Got Long"):
            lib.linalg.qr(lib.ones(2, 2, dtype=lib.long))
        for n in (0, 1):
            with pytest.raises(RuntimeError, match="N must be greater than 1."):
                lib.linalg.vander(lib.ones(3), N=n)


def test_eig_and_eigvals_values_as_lapack_geev():
    matrices = RNG.standard_normal((2, 4, 4))
    matrices[1] = matrices[1] + matrices[1].T  # (real eigenvalues: still complex outputs)
    ours, theirs = chainrule.linalg.eig(chainrule.tensor(matrices)), torch.linalg.eig(torch.tensor(matrices))
    assert ours._fields == ("eigenvalues", "eigenvectors")
    for mine, reference in zip(ours, theirs):
        assert mine.dtype == chainrule.complex128
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-12, atol=1e-12)
    values = chainrule.linalg.eigvals(chainrule.tensor(matrices))
    np.testing.assert_allclose(values.numpy(), theirs.eigenvalues.numpy(), rtol=1e-12, atol=1e-12)


def test_eig_of_float32_is_complex64():
    # (NumPy's geev runs in double, PyTorch's in single: the order of the eigenvalues may differ)
    matrices = RNG.standard_normal((3, 5, 5)).astype(np.float32)
    values, vectors = chainrule.linalg.eig(chainrule.tensor(matrices))
    assert values.dtype == vectors.dtype == chainrule.complex64
    reference = torch.linalg.eigvals(torch.tensor(matrices)).numpy()
    np.testing.assert_allclose(np.sort_complex(values.numpy()), np.sort_complex(reference), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(matrices @ vectors.numpy(), vectors.numpy() * values.numpy()[..., None, :], atol=1e-5)


def test_eig_errors_as_torch():
    for make in (lambda L: L.linalg.eigvals(L.zeros(2, 3)), lambda L: L.linalg.eig(L.zeros(3)),
                 lambda L: L.linalg.eig(L.zeros(3, 3, dtype=L.int64))):
        with pytest.raises(RuntimeError) as theirs:
            make(torch)
        with pytest.raises(RuntimeError) as ours:
            make(chainrule)
        assert str(ours.value) == str(theirs.value)


def test_eig_gradients_as_torch():
    """PyTorch's eig backward: real and complex inputs, losses of the eigenvalues and of the
    eigenvectors' moduli (phase-invariant), and its refusal of a phase-dependent loss."""
    matrices = RNG.standard_normal((2, 4, 4))

    def run(L, complex_input):
        values = matrices[0] + 1j * matrices[1] if complex_input else matrices
        a = L.tensor(values, requires_grad=True)
        w, v = L.linalg.eig(a)
        weights = L.arange(4.0, dtype=L.float64)
        loss = (w.real ** 2).sum() + (w.imag * weights).sum() + (v.abs() ** 2 * weights).sum()
        first, = L.autograd.grad(loss, a)
        second, = L.autograd.grad(L.linalg.eigvals(a).abs().sum(), a)
        return first, second

    for complex_input in (False, True):
        for ours, theirs in zip(run(chainrule, complex_input), run(torch, complex_input)):
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-12)
    for L in (torch, chainrule):
        a = L.tensor(matrices[0], requires_grad=True)
        with pytest.raises(RuntimeError, match="specified up to multiplication by"):
            L.linalg.eig(a)[1].real.sum().backward()
