"""stft, istft and the window functions (chainrule/spectral.py): values, shapes, dtypes and
gradients against PyTorch's in float64, and PyTorch's errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

#: A complex value cast to a real one silently loses its imaginary part: an error here.
pytestmark = pytest.mark.filterwarnings("error::numpy.exceptions.ComplexWarning")

_rng = np.random.default_rng(11)
BATCH = _rng.normal(size=(2, 64))
SIGNAL = _rng.normal(size=100)


def _hann(L, n=16):
    return L.hann_window(n, dtype=L.float64)


def _loss(L, out):
    weights = L.tensor(np.cos(np.arange(out.numel()).reshape(tuple(out.shape))) + 0.3, dtype=L.float64)
    if out.is_complex():
        return (out.real * weights + out.imag * weights * weights).sum()
    return (out * weights).sum()


def _run(L, fn, values):
    x = L.tensor(values, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the rectangular-window warning of the cases without one)
        out = fn(L, x)
    _loss(L, out).backward()
    return out, x.grad


CASES = [
    ("stft", BATCH, lambda L, x: L.stft(x, 16, window=_hann(L), return_complex=True)),
    ("stft-1d-hop", SIGNAL, lambda L, x: L.stft(x, 16, hop_length=5, window=_hann(L), return_complex=True)),
    ("stft-short-window-not-centred", BATCH, lambda L, x: L.stft(
        x, 16, center=False, win_length=10, window=L.hamming_window(10, dtype=L.float64), return_complex=True)),
    ("stft-constant-normalized", BATCH, lambda L, x: L.stft(
        x, 16, pad_mode="constant", normalized=True, window=_hann(L), return_complex=True)),
    ("stft-two-sided", BATCH, lambda L, x: L.stft(x, 16, onesided=False, window=_hann(L), return_complex=True)),
    ("stft-real-pairs", BATCH, lambda L, x: L.stft(x, 16, window=_hann(L), return_complex=False)),
    ("stft-complex-input", BATCH, lambda L, x: L.stft(x * (1 + 1j), 16, window=_hann(L), return_complex=True)),
    ("stft-method-rectangular", BATCH, lambda L, x: x.stft(16, return_complex=True)),
    ("istft", BATCH, lambda L, x: L.istft(L.stft(x, 16, window=_hann(L), return_complex=True), 16, window=_hann(L))),
    ("istft-longer", BATCH, lambda L, x: L.istft(
        L.stft(x, 16, window=_hann(L), return_complex=True), 16, window=_hann(L), length=70)),
    ("istft-shorter", SIGNAL, lambda L, x: L.istft(
        L.stft(x, 16, hop_length=4, window=_hann(L), return_complex=True), 16, hop_length=4, window=_hann(L),
        length=50)),
    ("istft-not-centred", BATCH, lambda L, x: L.istft(
        L.stft(x, 16, center=False, window=_hann(L), return_complex=True), 16, center=False,
        window=_hann(L) + 0.1)),
    ("istft-normalized-short-window", BATCH, lambda L, x: L.istft(
        L.stft(x, 16, normalized=True, win_length=12, window=_hann(L, 12), return_complex=True), 16,
        normalized=True, win_length=12, window=_hann(L, 12))),
    ("istft-two-sided", BATCH, lambda L, x: L.istft(
        L.stft(x, 16, onesided=False, window=_hann(L), return_complex=True), 16, window=_hann(L), onesided=False)),
    ("istft-complex", BATCH, lambda L, x: L.istft(
        L.stft(x * (1 - 1j), 16, window=_hann(L), return_complex=True), 16, window=_hann(L), return_complex=True)),
]


@pytest.mark.parametrize("name,values,fn", CASES, ids=[c[0] for c in CASES])
def test_like_torch(name, values, fn):
    out, grad = _run(chainrule, fn, values)
    expected, expected_grad = _run(torch, fn, values)
    assert tuple(out.shape) == tuple(expected.shape)
    assert out.dtype.name == str(expected.dtype).replace("torch.", "")
    assert_close(out.detach().numpy(), expected.detach().resolve_conj().numpy(), what=name)
    assert_close(grad.numpy(), expected_grad.numpy(), what=f"{name} gradient")


def test_istft_inverts_stft():
    signal = chainrule.tensor(SIGNAL)
    window = chainrule.hann_window(32, dtype=chainrule.float64)
    spectrum = chainrule.stft(signal, 32, hop_length=8, window=window, return_complex=True)
    assert_close(chainrule.istft(spectrum, 32, hop_length=8, window=window, length=100), SIGNAL)


@pytest.mark.parametrize("expression", [
    "L.hann_window(5)", "L.hann_window(5, periodic=False)", "L.hamming_window(1)", "L.hann_window(0)",
    "L.bartlett_window(5)", "L.bartlett_window(4, periodic=False)", "L.blackman_window(6, dtype=L.float64)",
    "L.hamming_window(7, False, 0.5, 0.4, dtype=L.float64)",
])
def test_windows_like_torch(expression):
    got, want = eval(expression, {"L": chainrule}), eval(expression, {"L": torch})
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    assert_close(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("call, message", [
    (lambda L: L.stft(L.ones(50), 16), "stft requires the return_complex parameter be given for real inputs"),
    (lambda L: L.stft(L.ones(10), 16, center=False, return_complex=True), "expected 0 < n_fft < 10, but got n_fft=16"),
    (lambda L: L.stft(L.ones(50), 16, window=L.ones(8), return_complex=True),
     "expected a 1D window tensor of size equal to win_length=16"),
    (lambda L: L.istft(L.ones(9, 13, dtype=L.complex64), 16, hop_length=5, win_length=4),
     "expected 0 < hop_length <= win_length"),
    (lambda L: L.istft(L.ones(9, 13, dtype=L.complex64), 16, window=L.zeros(16)), "window overlap add min"),
    (lambda L: L.istft(L.ones(8, 13, dtype=L.complex64), 16),
     "expected the frequency dimension .* to match n_fft / 2 \\+ 1 when onesided=True, but got 8"),
    (lambda L: L.istft(L.ones(9, 13, 2), 16), "istft requires a complex-valued input tensor"),
    (lambda L: L.hann_window(-1), "hann_window requires non-negative window_length, got window_length=-1"),
])
def test_errors_like_torch(call, message):
    for L in (chainrule, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match=message):
                call(L)


@pytest.mark.parametrize("args", [(10,), (11, False), (8, True, 5.0), (1,), (0,), (64, True, 14.0)])
def test_kaiser_window_like_torch(args):
    assert_close(chainrule.kaiser_window(*args, dtype=chainrule.float64), torch.kaiser_window(*args, dtype=torch.float64))
    ours, theirs = chainrule.kaiser_window(*args), torch.kaiser_window(*args)  # float32: PyTorch computes in float
    assert ours.dtype == chainrule.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-6, atol=1e-7)
    with pytest.raises(RuntimeError, match="kaiser_window requires non-negative window_length"):
        chainrule.kaiser_window(-1)


def test_spectral_and_sparse_load_on_first_use():
    """``import chainrule`` leaves the spectral and sparse modules (and the FFT and the
    convolutions under them) unloaded; their top-level names and Tensor methods load them."""
    from fresh_python import fresh_python

    from chainrule import spectral
    assert set(chainrule._ON_FIRST_USE["spectral"][0]) == set(spectral.__all__)
    out = fresh_python(
        "import sys, chainrule\n"
        "names = ('chainrule.spectral', 'chainrule.sparse', 'chainrule.fft', 'chainrule.ops.conv')\n"
        "print(*[name in sys.modules for name in names])\n"
        "x = chainrule.arange(32.0)\n"
        "print(tuple(x.stft(8, window=chainrule.hann_window(8), return_complex=True).shape), x.to_sparse()._nnz())\n"
        "print(*[name in sys.modules for name in names[:3]])")
    assert out == ["False"] * 4 + ["(5,", "17)", "31"] + ["True"] * 3
