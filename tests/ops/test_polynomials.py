"""The orthogonal polynomials of torch.special (chainrule.ops.polynomials) against PyTorch's
kernels: every family, degrees -1 to 30 (scalar and per element), edges x = +-1 and 0, dtypes;
no gradient."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.ops.polynomials import NAMES

X = np.concatenate([np.linspace(-1.5, 1.5, 61), [1.0, -1.0, 0.0, 0.5]])
DEGREES = [-1, 0, 1, 2, 5, 7, 9, 12, 30]


@pytest.mark.parametrize("name", NAMES)
def test_values_like_torch(name):
    for n in DEGREES:
        expected = getattr(torch.special, name)(torch.from_numpy(X), n).numpy()
        got = getattr(chainrule.special, name)(chainrule.from_numpy(X), n).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9, err_msg=f"n={n}")
        # float32: PyTorch's recurrence and trigonometry run in float too; the trigonometric
        # form of high degrees magnifies an ulp of acos by n, hence the looser bound.
        x32 = X.astype(np.float32)
        expected = getattr(torch.special, name)(torch.from_numpy(x32), n).numpy()
        got = getattr(chainrule.special, name)(chainrule.from_numpy(x32), n).numpy()
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4, err_msg=f"n={n}")
    degrees = np.array([0, 3, 11, -2] * 16 + [1])
    expected = getattr(torch.special, name)(torch.from_numpy(X), torch.from_numpy(degrees)).numpy()
    got = getattr(chainrule.special, name)(chainrule.from_numpy(X), chainrule.from_numpy(degrees)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)


def test_arguments_dtypes_and_no_gradient_like_torch():
    for L in (torch, chainrule):
        assert str(L.special.chebyshev_polynomial_t(L.tensor([1, 2]), 2).dtype).endswith("float32")
        assert L.special.chebyshev_polynomial_t(0.5, L.tensor([3, 10])).tolist() == pytest.approx([-1.0, -0.5])
        assert L.special.hermite_polynomial_h(L.tensor([0.5], dtype=L.float64), 2.7).item() == pytest.approx(-1.0)
        out = L.special.legendre_polynomial_p(L.tensor([0.3], requires_grad=True), 3)
        assert not out.requires_grad and out.grad_fn is None
