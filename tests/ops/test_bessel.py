"""i0, i0e, i1, i1e, erfcx, log_ndtr and ndtri (chainrule.ops.bessel) against PyTorch's
kernels: values over wide grids in float64 and float32, special values, first and second
derivatives, node names."""
import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

GRID = np.concatenate([np.linspace(-60, 60, 1201), [0.0, 1e-9, -1e-9, 29.999, 30.001, 700.0, -700.0,
                                                    np.inf, -np.inf, np.nan]])
FUNCTIONS = {
    "i0": lambda L: L.i0, "i0e": lambda L: L.special.i0e, "i1": lambda L: L.special.i1,
    "i1e": lambda L: L.special.i1e, "erfcx": lambda L: L.special.erfcx, "log_ndtr": lambda L: L.special.log_ndtr,
}


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype,rtol", [("float64", 5e-13), ("float32", 2e-5)])
def test_values_like_torch(name, dtype, rtol):
    x = GRID.astype(dtype)
    expected = FUNCTIONS[name](torch)(torch.from_numpy(x)).numpy()
    got = FUNCTIONS[name](chainrule)(chainrule.from_numpy(x)).numpy()
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=rtol,
                               atol=1e-300 if dtype == "float64" else 1e-37)  # (float32 denormals)


def test_ndtri_like_torch():
    p = np.concatenate([np.linspace(0, 1, 2001), [1e-300, 1e-100, 1e-20, 1e-5, 0.5, 0.5000001, 1 - 1e-12, -0.1, 1.1,
                                                  np.nan]])
    expected = torch.special.ndtri(torch.from_numpy(p)).numpy()
    got = chainrule.special.ndtri(chainrule.from_numpy(p)).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert got[p == 0.5][0] == 0.0


@pytest.mark.parametrize("name", [*FUNCTIONS, "ndtri"])
def test_gradients_and_second_derivatives_like_torch(name):
    values = np.array([0.05, 0.3, 0.5, 0.9]) if name == "ndtri" else np.array([-3.0, -0.5, 0.0, 0.7, 12.0, 40.0])

    def run(L):
        function = L.special.ndtri if name == "ndtri" else FUNCTIONS[name](L)
        x = L.tensor(values, requires_grad=True)
        y = function(x)
        first, = L.autograd.grad(y.sum(), x, create_graph=True)
        second, = L.autograd.grad(first.sum(), x)
        return y.grad_fn.name(), first, second

    (name_t, first_t, second_t), (name_c, first_c, second_c) = run(torch), run(chainrule)
    assert name_c == name_t
    assert_close(first_c, first_t)
    assert_close(second_c, second_t)


def test_i0_method_and_in_place_forms():
    x = np.array([-2.0, 0.5, 3.0])
    t, c = torch.tensor(x), chainrule.tensor(x)
    assert_close(c.i0(), t.i0())
    torch.i0_(t)
    chainrule.i0_(c)
    assert_close(c, t)
    got = chainrule.i0(chainrule.tensor([1, 2]))  # integers: float32 (PyTorch's float kernel: within 1e-6)
    assert got.dtype == chainrule.float32
    np.testing.assert_allclose(got.numpy(), torch.i0(torch.tensor([1, 2])).numpy(), rtol=1e-6)
