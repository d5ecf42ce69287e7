"""chainrule.linalg.inv and solve against torch.linalg: values, gradients (first and second
order), broadcasting, vector right-hand sides, and the errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)
A = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)


def _pair(array):
    return chainrule.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


CASES = {
    "inv": (lambda lib, a, b: lib.linalg.inv(a), None),
    "solve matrices": (lambda lib, a, b: lib.linalg.solve(a, b), RNG.standard_normal((2, 3, 4))),
    "solve vectors": (lambda lib, a, b: lib.linalg.solve(a, b), RNG.standard_normal((2, 3))),
    "solve broadcast batch": (lambda lib, a, b: lib.linalg.solve(a, b), RNG.standard_normal((5, 1, 3, 2))),
    "solve one vector": (lambda lib, a, b: lib.linalg.solve(a[0], b), RNG.standard_normal(3)),
    "solve from the right": (lambda lib, a, b: lib.linalg.solve(a, b, left=False), RNG.standard_normal((2, 4, 3))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_are_pytorchs(name):
    fn, b = CASES[name]
    (a_c, a_t), (b_c, b_t) = _pair(A), (_pair(b) if b is not None else (None, None))
    out_c, out_t = fn(chainrule, a_c, b_c), fn(torch, a_t, b_t)
    np.testing.assert_allclose(out_c.detach().numpy(), out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = RNG.standard_normal(tuple(out_t.shape))
    (out_c * chainrule.tensor(weights)).sum().backward()
    (out_t * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(a_c.grad.numpy(), a_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    if b is not None:
        np.testing.assert_allclose(b_c.grad.numpy(), b_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    if name in ("inv", "solve matrices"):
        assert out_c.grad_fn.name() == out_t.grad_fn.name()


def test_second_derivatives():
    a = chainrule.tensor(A[0], requires_grad=True)
    b = chainrule.tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    assert gradgradcheck(lambda a, b: chainrule.linalg.solve(a, b), (a, b))
    assert gradgradcheck(lambda a: chainrule.linalg.inv(a), (a,))
    assert gradcheck(lambda a, b: chainrule.linalg.solve(a, b), (a, b))


def test_errors_are_pytorchs():
    singular = chainrule.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(chainrule.linalg.LinAlgError, match="input matrix is singular"):
        chainrule.linalg.inv(singular)
    with pytest.raises(chainrule.linalg.LinAlgError, match="The solver failed because the input matrix is singular"):
        chainrule.linalg.solve(singular, chainrule.ones(2))
    assert issubclass(chainrule.linalg.LinAlgError, RuntimeError)
    with pytest.raises(RuntimeError, match="A must be batches of square matrices, but they are 2 by 3 matrices"):
        chainrule.linalg.inv(chainrule.ones(2, 3))
    with pytest.raises(RuntimeError, match="The input tensor A must have at least 2 dimensions"):
        chainrule.linalg.inv(chainrule.ones(3))
    with pytest.raises(RuntimeError, match="linalg.inv: Expected a floating point or complex tensor as input. Got Long"):
        chainrule.linalg.inv(chainrule.tensor([[1, 2], [3, 4]]))
    with pytest.raises(RuntimeError, match="Expected A and B to have the same dtype, but found A of type Double and B "
                                           "of type Float instead"):
        chainrule.linalg.solve(chainrule.eye(2, dtype=chainrule.float64), chainrule.ones(2))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B for the equation AX = B \(2x2 and 3x1\)"):
        chainrule.linalg.solve(chainrule.eye(2), chainrule.ones(3))


def test_second_derivatives_with_a_vector_right_hand_side_are_pytorchs():
    b = RNG.standard_normal(3)

    def second(lib):
        a, v = lib.tensor(A[0], requires_grad=True), lib.tensor(b, requires_grad=True)
        x = lib.linalg.solve(a, v)
        ga, gv = lib.autograd.grad((x ** 2).sum(), (a, v), create_graph=True)
        return [g.detach().numpy() for g in lib.autograd.grad(ga.sum() + gv.sum(), (a, v))]

    for ours, theirs in zip(second(chainrule), second(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
