"""The transforms of ops/fft.py through chainrule.fft: values, dtypes, node names and
gradients (PyTorch's convention for complex inputs) against torch.fft in float64, for each
normalization, with ``n``/``s`` padding and trimming; gradients also against finite
differences, and second-order gradients through create_graph."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

#: A complex value cast to a real one silently loses its imaginary part: an error here.
pytestmark = pytest.mark.filterwarnings("error::numpy.exceptions.ComplexWarning")

_rng = np.random.default_rng(3)
REAL = _rng.normal(size=(3, 8))
CPLX = _rng.normal(size=(3, 8)) + 1j * _rng.normal(size=(3, 8))
CUBE = _rng.normal(size=(4, 6, 5))

TRANSFORMS = [
    ("fft-real", REAL, lambda L, x, norm: L.fft.fft(x, norm=norm)),
    ("fft", CPLX, lambda L, x, norm: L.fft.fft(x, norm=norm)),
    ("fft-pad", CPLX, lambda L, x, norm: L.fft.fft(x, n=12, norm=norm)),
    ("fft-trim-dim0", CPLX, lambda L, x, norm: L.fft.fft(x, n=2, dim=0, norm=norm)),
    ("ifft", CPLX, lambda L, x, norm: L.fft.ifft(x, norm=norm)),
    ("ifft-real", REAL, lambda L, x, norm: L.fft.ifft(x, n=6, norm=norm)),
    ("rfft", REAL, lambda L, x, norm: L.fft.rfft(x, norm=norm)),
    ("rfft-odd", REAL, lambda L, x, norm: L.fft.rfft(x, n=7, norm=norm)),
    ("irfft", CPLX, lambda L, x, norm: L.fft.irfft(x, norm=norm)),
    ("irfft-odd", CPLX, lambda L, x, norm: L.fft.irfft(x, n=7, norm=norm)),
    ("irfft-pad", CPLX, lambda L, x, norm: L.fft.irfft(x, n=20, norm=norm)),
    ("irfft-dim0", CPLX, lambda L, x, norm: L.fft.irfft(x, n=3, dim=0, norm=norm)),
    ("hfft", CPLX, lambda L, x, norm: L.fft.hfft(x, norm=norm)),
    ("hfft-odd", CPLX, lambda L, x, norm: L.fft.hfft(x, n=9, norm=norm)),
    ("ihfft", REAL, lambda L, x, norm: L.fft.ihfft(x, norm=norm)),
    ("fft2-real", CUBE, lambda L, x, norm: L.fft.fft2(x, norm=norm)),
    ("ifft2-s", CUBE, lambda L, x, norm: L.fft.ifft2(x * (1 + 1j), s=(3, 8), norm=norm)),
    ("rfft2", CUBE, lambda L, x, norm: L.fft.rfft2(x, norm=norm)),
    ("irfft2", CUBE, lambda L, x, norm: L.fft.irfft2(x * (1 - 2j), norm=norm)),
    ("irfft2-s", CUBE, lambda L, x, norm: L.fft.irfft2(x * (1 - 2j), s=(5, 7), norm=norm)),
    ("fftn-real", CUBE, lambda L, x, norm: L.fft.fftn(x, norm=norm)),
    ("fftn-dims", CUBE, lambda L, x, norm: L.fft.fftn(x * 1j, dim=(0, 2), norm=norm)),
    ("ifftn-real-s", CUBE, lambda L, x, norm: L.fft.ifftn(x, s=(4, 3), norm=norm)),
    ("rfftn", CUBE, lambda L, x, norm: L.fft.rfftn(x, norm=norm)),
    ("rfftn-dims", CUBE, lambda L, x, norm: L.fft.rfftn(x, dim=(2, 0), norm=norm)),
    ("irfftn-round-trip", CUBE, lambda L, x, norm: L.fft.irfftn(L.fft.rfftn(x, norm=norm), norm=norm)),
    ("hfft2", CUBE, lambda L, x, norm: L.fft.hfft2(x * (1 + 0.5j), norm=norm)),
    ("ihfft2-s", CUBE, lambda L, x, norm: L.fft.ihfft2(x, s=(5, 4), norm=norm)),
    ("hfftn-s", CUBE, lambda L, x, norm: L.fft.hfftn(x * (2 - 1j), s=(3, 7), dim=(0, 2), norm=norm)),
    ("ihfftn", CUBE, lambda L, x, norm: L.fft.ihfftn(x, norm=norm)),
    ("irfftn-s", CUBE, lambda L, x, norm: L.fft.irfftn(x * 1j + x * x, s=(3, 4, 9), norm=norm)),
]
NORMS = [None, "backward", "ortho", "forward"]


def _weights(L, out):
    return L.tensor(np.cos(np.arange(out.numel()).reshape(tuple(out.shape))) + 0.3, dtype=L.float64)


def _loss(L, out):
    """A real loss weighing every real and imaginary part differently."""
    weights = _weights(L, out)
    if out.is_complex():
        return (out.real * weights + out.imag * weights * weights).sum()
    return (out * weights).sum()


def _run(L, fn, values, norm):
    x = L.tensor(values, requires_grad=True)
    out = fn(L, x, norm)
    _loss(L, out).backward()
    return out, x.grad


def _numpy(t):
    return t.detach().resolve_conj().numpy()


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name,values,fn", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_transform_like_torch(name, values, fn, norm):
    out, grad = _run(chainrule, fn, values, norm)
    expected, expected_grad = _run(torch, fn, values, norm)
    assert_close(_numpy(out), _numpy(expected), what=name)
    assert out.dtype.name == str(expected.dtype).replace("torch.", "")
    assert out.grad_fn.name() == expected.grad_fn.name()
    assert_close(_numpy(grad), _numpy(expected_grad), what=f"{name} gradient")


def _finite_difference(fn, values, eps=1e-6):
    """dL/dx + i dL/dy by central differences, element by element."""

    def loss(v):
        return _loss(chainrule, fn(chainrule, chainrule.tensor(v), "ortho")).item()

    grad = np.zeros(values.shape, dtype=values.dtype)
    steps = (1.0, 1j) if np.iscomplexobj(values) else (1.0,)
    for index in np.ndindex(values.shape):
        for step in steps:
            shifted = [values.copy(), values.copy()]
            shifted[0][index] += eps * step
            shifted[1][index] -= eps * step
            grad[index] += step * (loss(shifted[0]) - loss(shifted[1])) / (2 * eps)
    return grad


@pytest.mark.parametrize("name", ["fft-pad", "rfft-odd", "irfft", "irfft-odd", "hfft", "ihfft", "irfft2-s"])
def test_gradient_against_finite_differences(name):
    _, values, fn = next(t for t in TRANSFORMS if t[0] == name)
    values = values[:2, :5] if values.ndim == 2 else values[:2, :3, :4]
    _, grad = _run(chainrule, fn, values, "ortho")
    assert_close(grad.numpy(), _finite_difference(fn, values), rtol=1e-6, atol=1e-6)


def _second_order(L):
    z = L.tensor(CPLX[0], requires_grad=True)
    y = L.fft.irfft(L.fft.fft(z, n=10) * z.sum(), n=9, norm="ortho")
    x = L.fft.rfft(y * y, norm="forward")
    (g,) = L.autograd.grad((x.real * x.imag).sum(), z, create_graph=True)
    (h,) = L.autograd.grad((g.abs() ** 2).sum(), z)
    return g, h


def test_second_order_gradients_like_torch():
    for got, want in zip(_second_order(chainrule), _second_order(torch)):
        assert_close(_numpy(got), _numpy(want))


@pytest.mark.parametrize("dtype", ["float32", "complex64", "int64"])
def test_single_precision_and_integer_inputs_like_torch(dtype):
    for fn in (lambda L, x: L.fft.fft(x), lambda L, x: L.fft.ifft(x, n=5)):
        values = np.arange(6).astype(dtype)
        got = fn(chainrule, chainrule.tensor(values))
        want = fn(torch, torch.tensor(values))
        assert got.dtype.name == str(want.dtype).replace("torch.", "")
        assert_close(_numpy(got), _numpy(want), rtol=1e-6, atol=1e-5)
    if dtype != "complex64":
        got, want = chainrule.fft.irfft(chainrule.fft.rfft(chainrule.tensor(values))), torch.fft.irfft(
            torch.fft.rfft(torch.tensor(values)))
        assert got.dtype.name == str(want.dtype).replace("torch.", "")


@pytest.mark.parametrize("name", ["fft", "fft-pad", "ifft-real", "rfft-odd", "irfft", "irfft-odd", "hfft", "ihfft",
                                  "irfft2-s", "fftn-dims"])
def test_gradcheck_and_gradgradcheck(name):
    _, values, fn = next(t for t in TRANSFORMS if t[0] == name)
    values = values[:2, :5] if values.ndim == 2 else values[:2, :3, :4]
    x = chainrule.tensor(values, requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda a: fn(chainrule, a, "forward"), (x,))
    assert chainrule.autograd.gradgradcheck(lambda a: fn(chainrule, a, "ortho") * a.sum(), (x,))
