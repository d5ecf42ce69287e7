"""gcd, lcm, heaviside, nextafter, ldexp, frexp against PyTorch: values, dtypes, gradients
(including PyTorch's integer-power gradient of ldexp) and errors."""
import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close


def both(make):
    return make(torch), make(chainrule)


def test_gcd_lcm_of_integers():
    def run(L):
        a, b = L.tensor([12, -18, 0, 7, 0]), L.tensor([8, 27, 0, 0, -5])
        c = a.clone()
        c.gcd_(L.tensor(6))
        return L.stack([L.gcd(a, b), L.lcm(a, b), a.gcd(b), c, L.lcm(a, L.tensor(4))])

    expected, got = both(run)
    assert_close(got, expected)
    assert got.dtype == chainrule.int64


@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_refuse_floats_as_torch(name):
    for L in (torch, chainrule):
        with pytest.raises(NotImplementedError, match=f'"{name}_cpu" not implemented for \'Float\''):
            getattr(L, name)(L.tensor([1.0]), L.tensor([2.0]))


def test_heaviside_and_nextafter():
    def run(L):
        x = L.tensor([-1.5, 0.0, 2.0, 0.0], dtype=L.float64)
        step = L.heaviside(x, L.tensor([0.5], dtype=L.float64))
        after = L.nextafter(L.tensor([1.0, 1.0, 0.0]), L.tensor([2.0, 0.0, -1.0]))
        x.heaviside_(L.tensor(0.25, dtype=L.float64))
        changed = L.tensor([1.0, 1.0, 0.0])
        changed.nextafter_(L.tensor([2.0, 0.0, -1.0]))
        return L.cat([step, x]), L.stack([after, changed])

    (step_t, after_t), (step_c, after_c) = both(run)
    assert_close(step_c, step_t)
    assert after_c.numpy().tobytes() == after_t.numpy().tobytes()
    for L in (torch, chainrule):
        with pytest.raises(RuntimeError, match="heaviside is not yet implemented for tensors with different dtypes"):
            L.heaviside(L.tensor([1.0]), L.tensor([1.0], dtype=L.float64))


def test_ldexp_values_dtypes_and_gradients():
    def run(L):
        y = L.tensor([[1.0, 2.0]], requires_grad=True)
        z = L.ldexp(y, L.tensor([[3], [-1]]))  # a negative integer exponent: PyTorch's gradient is 0 there
        z.sum().backward()
        w = L.tensor([1.5, -3.0], dtype=L.float64, requires_grad=True)
        v = w.ldexp(L.tensor([2.0, -2.0], dtype=L.float64))
        (v * v).sum().backward()
        return [z, y.grad, v, w.grad, L.ldexp(L.tensor([1, 2]), L.tensor([1, 2]))]

    expected, got = both(run)
    for g, e in zip(got, expected):
        assert_close(g, e)
        assert str(g.dtype).split(".")[-1] == str(e.dtype).split(".")[-1]
    assert got[0].grad_fn.name() == "LdexpBackward0"


def test_frexp_pair_and_mantissa_gradient():
    def run(L):
        x = L.tensor([-1.5, 0.0, 2.0, 3.25, 1e-3], dtype=L.float64, requires_grad=True)
        mantissa, exponent = L.frexp(x)
        (mantissa * L.arange(5)).sum().backward()
        named = x.detach().frexp()
        return mantissa, exponent, x.grad, named.mantissa, named.exponent

    expected, got = both(run)
    for g, e in zip(got, expected):
        assert_close(g, e)
    assert got[1].dtype == chainrule.int32
    assert repr(chainrule.frexp(chainrule.tensor([1.5]))).replace("chainrule", "torch") == \
        repr(torch.frexp(torch.tensor([1.5])))
    for L in (torch, chainrule):
        with pytest.raises(RuntimeError, match="only supports floating-point dtypes"):
            L.frexp(L.tensor([1]))
