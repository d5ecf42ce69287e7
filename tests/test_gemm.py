"""chainrule.gemm: the large matrix products through a CBLAS library (MKL with the ``mkl``
extra) agree with NumPy's to float rounding, for every operand layout; anything a CBLAS call
cannot take falls back to NumPy; the library is chosen at import from CHAINRULE_GEMM.

The ctypes path is exercised with the CBLAS of the OpenBLAS that NumPy bundles (always
there), and with MKL's wherever the extra is installed."""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule
from chainrule import gemm


def _numpy_openblas() -> gemm.Cblas:
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    path = next(os.path.join(libs, n) for n in sorted(os.listdir(libs)) if n.startswith("libscipy_openblas64_"))
    return gemm.Cblas(path, "scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_", ctypes.c_int64)


LIBRARIES = {"numpy's openblas": _numpy_openblas()}
if gemm._mkl_path() is not None:
    LIBRARIES["mkl"] = gemm.load_mkl(gemm._mkl_path())

RNG = np.random.default_rng(0)


def _operands(layout: str, dtype) -> tuple:
    """(a, b) of shapes (70, 130) and (130, 150), ~1.4 M multiply-adds, in ``layout``."""
    a = RNG.standard_normal((70, 130)).astype(dtype)
    b = RNG.standard_normal((130, 150)).astype(dtype)
    if layout == "transposed":  # x @ W.T and g.T @ x, as Linear multiplies
        return np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T
    if layout == "padded rows":  # views with a leading dimension larger than their width
        return (np.pad(a, ((0, 0), (0, 9)))[:, :130], np.pad(b, ((0, 3), (0, 11)))[:130, :150])
    return a, b


@pytest.mark.parametrize("library", list(LIBRARIES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "padded rows"])
def test_cblas_product_is_numpys_to_rounding(library, dtype, layout):
    a, b = _operands(layout, dtype)
    assert a.shape[0] * a.shape[1] * b.shape[1] >= gemm.GEMM_MIN
    direct = LIBRARIES[library].gemm(a, b)
    assert direct is not None and direct.dtype == dtype and direct.flags.c_contiguous
    expected = np.asarray(a, np.float64) @ np.asarray(b, np.float64)
    tolerance = 1e-4 if dtype is np.float32 else 1e-12
    np.testing.assert_allclose(direct, expected, rtol=tolerance, atol=tolerance * 130)
    np.testing.assert_allclose(gemm.matmul(a, b, gemm=LIBRARIES[library].gemm), a @ b, rtol=tolerance,
                               atol=tolerance * 130)


@pytest.mark.parametrize("library", list(LIBRARIES))
def test_what_cblas_cannot_take_is_numpys_own_product(library):
    cblas = LIBRARIES[library].gemm
    a, b = _operands("contiguous", np.float32)
    cases = [
        (a[:, ::2], b[::2]),                                          # strided both ways
        (a.astype(np.int64), b.astype(np.int64)),                     # integers
        (a.astype(np.float16), b.astype(np.float16)),                 # half
        (a, b.astype(np.float64)),                                    # mixed dtypes
        (np.stack([a, a]), b),                                        # batched
        (a[:3, :5], b[:5, :4]),                                       # small: not worth a call
    ]
    for x, y in cases:
        np.testing.assert_array_equal(gemm.matmul(x, y, gemm=cblas), x @ y)
    assert cblas(a[:, ::2], b[::2]) is None


def _choice(env: dict) -> subprocess.CompletedProcess:
    code = "import chainrule.gemm as g; print(g.backend())"
    environment = {k: v for k, v in os.environ.items() if k != "CHAINRULE_GEMM"} | env
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)


def test_the_library_is_chosen_at_import():
    assert _choice({"CHAINRULE_GEMM": "numpy"}).stdout.strip() == "numpy"
    automatic = _choice({}).stdout.strip()
    assert automatic == ("mkl" if "mkl" in LIBRARIES else "numpy")
    wanted = _choice({"CHAINRULE_GEMM": "mkl"})
    if "mkl" in LIBRARIES:
        assert wanted.stdout.strip() == "mkl"
    else:
        assert wanted.stdout.strip() == "numpy" and "pip install 'chainrule[mkl]'" in wanted.stderr
        assert "Traceback" not in wanted.stderr
    unknown = _choice({"CHAINRULE_GEMM": "blis"})
    assert unknown.stdout.strip() == "numpy" and "is not 'numpy', 'mkl' or unset" in unknown.stderr


def test_linear_and_matmul_go_through_the_chosen_product(monkeypatch):
    """The Linear layer's three GEMMs and a 2-D matmul's use :func:`gemm.matmul`; with
    another library their results are NumPy's to rounding."""
    calls = []
    cblas = LIBRARIES["numpy's openblas"].gemm

    def counting(a, b):
        calls.append((a.shape, b.shape))
        return cblas(a, b)

    monkeypatch.setattr(gemm, "_CBLAS", type("Fake", (), {"gemm": staticmethod(counting)})())
    x = chainrule.tensor(RNG.standard_normal((256, 300)), requires_grad=True)
    layer = chainrule.nn.Linear(300, 200).double()
    out = layer(x)
    out.sum().backward()
    assert calls == [((256, 300), (300, 200)), ((256, 200), (200, 300)), ((200, 256), (256, 300))]
    np.testing.assert_allclose(out.detach().numpy(), x._data @ layer.weight._data.T + layer.bias._data,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), np.ones((256, 200)) @ layer.weight._data, rtol=1e-12)
    calls.clear()
    (x @ layer.weight.T).sum().backward()
    assert len(calls) == 3
