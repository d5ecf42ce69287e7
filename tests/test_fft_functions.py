"""chainrule.fft's helpers and argument handling (src/chainrule/fft.py; the transforms' values and
gradients are in tests/ops/test_fft.py): frequencies, shifts, errors, and ``torch.fft`` under the import alias."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.torch_alias import aliased
from conftest import assert_close

#: A complex value cast to a real one silently loses its imaginary part: an error here.
pytestmark = pytest.mark.filterwarnings("error::numpy.exceptions.ComplexWarning")


@pytest.mark.parametrize("expression", [
    "L.fft.fftfreq(5)", "L.fft.fftfreq(8, d=0.1)", "L.fft.fftfreq(4, dtype=L.float64)",
    "L.fft.rfftfreq(6, d=0.3)", "L.fft.rfftfreq(7, dtype=L.float64)", "L.fft.fftfreq(1)",
])
def test_frequencies_like_torch(expression):
    got, want = eval(expression, {"L": chainrule}), eval(expression, {"L": torch})
    assert repr(got) == repr(want).replace("torch.", "chainrule.")
    assert_close(got, want, rtol=0, atol=0)


@pytest.mark.parametrize("expression", [
    "L.fft.fftshift(x)", "L.fft.ifftshift(x)", "L.fft.fftshift(x, dim=1)", "L.fft.ifftshift(x, dim=(0, 2))",
    "L.fft.ifftshift(L.fft.fftshift(x))",
])
def test_shifts_like_torch(expression):
    values = np.arange(3 * 4 * 5, dtype=np.float64).reshape(3, 4, 5)
    got = eval(expression, {"L": chainrule, "x": chainrule.tensor(values)})
    want = eval(expression, {"L": torch, "x": torch.tensor(values)})
    assert_close(got, want, rtol=0, atol=0)


@pytest.mark.parametrize("call, error, message", [
    (lambda L: L.fft.fft(L.ones(4), norm="xx"), RuntimeError, 'Invalid normalization mode: "xx"'),
    (lambda L: L.fft.rfft(L.ones(4, dtype=L.complex128)), RuntimeError,
     "rfft expects a real input tensor, but got ComplexDouble"),
    (lambda L: L.fft.fft(L.ones(4), n=0), RuntimeError, r"Invalid number of data points \(0\) specified"),
    (lambda L: L.fft.irfft(L.ones(1, dtype=L.complex64)), RuntimeError,
     r"Invalid number of data points \(0\) specified"),
    (lambda L: L.fft.fft(L.ones(4), dim=3), IndexError, "Dimension out of range"),
    (lambda L: L.fft.rfft(L.ones(4, dtype=L.float16)), RuntimeError, "Unsupported dtype Half"),
])
def test_errors_like_torch(call, error, message):
    for L in (chainrule, torch):
        with pytest.raises(error, match=message):
            call(L)


def test_torch_fft_under_the_alias():
    namespace: dict = {}
    with aliased():
        exec("import torch\nimport torch.fft\nfrom torch.fft import rfft, irfft\n"
             "y = irfft(rfft(torch.arange(8.)), n=8)\nz = torch.fft.fft(torch.ones(4))\n", namespace)
    assert namespace["torch"].fft is chainrule.fft
    assert_close(namespace["y"], np.arange(8.0), atol=1e-5)
    assert_close(namespace["z"], np.array([4, 0, 0, 0], dtype=np.complex64))
