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
