"""chainrule.numpy_openblas: LAPACK's getrf and the thread calls of the OpenBLAS NumPy
bundles, against PyTorch's LU (its own LAPACK) and against the library's own answers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from chainrule import gemm, numpy_openblas

RNG = np.random.default_rng(5)
BUNDLED = numpy_openblas.library() is not None


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (5, 3), (3, 5), (2, 2, 40, 40)])
def test_getrf_gives_pytorchs_factors_and_pivots(shape, dtype):
    a = RNG.standard_normal(shape).astype(dtype)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.standard_normal(shape).astype(dtype)
    factored = numpy_openblas.getrf(a)
    assert (factored is not None) == BUNDLED
    if factored is None:
        return
    lu, pivots, info = factored
    theirs = torch.linalg.lu_factor_ex(torch.tensor(a))
    assert lu.shape == a.shape and lu.dtype == a.dtype and pivots.dtype == np.int32
    np.testing.assert_array_equal(pivots, theirs.pivots.numpy())
    np.testing.assert_array_equal(info, theirs.info.numpy())
    tolerance = 1e-5 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-12
    np.testing.assert_allclose(lu, theirs.LU.numpy(), rtol=tolerance, atol=tolerance)
    assert a.base is None or not np.shares_memory(lu, a)  # the input is left as it was


def test_getrf_reports_the_first_zero_pivot_and_declines_what_it_does_not_take():
    singular = np.array([[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 3.0]], [[2.0, 1.0], [1.0, 1.0]]])
    if BUNDLED:
        assert numpy_openblas.getrf(singular)[2].tolist() == [2, 1, 0]
    for declined in (singular.astype(np.float16), np.zeros((0, 3)), np.zeros(3), [[1.0]]):
        assert numpy_openblas.getrf(declined) is None


def test_thread_calls_are_the_librarys():
    found = numpy_openblas.function("openblas_get_num_threads")
    assert (found is not None) == BUNDLED
    if BUNDLED:
        get, _ = found
        assert gemm.threads() == get() >= 1
    assert numpy_openblas.function("no_such_routine_") is None
