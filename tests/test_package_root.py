"""The package root: what ``import chainrule`` loads, and the modules it loads only on first use
(their top-level names and Tensor methods load them, and then behave as if always there)."""
from __future__ import annotations

import importlib

import pytest

import chainrule
from chainrule.registry import ROWS
from fresh_python import fresh_python

ON_FIRST_USE = chainrule._ON_FIRST_USE


@pytest.mark.parametrize("module", sorted(ON_FIRST_USE))
def test_the_table_names_what_each_module_defines(module):
    loaded = importlib.import_module(f"chainrule.{module}")
    names, methods = ON_FIRST_USE[module]
    if module == "sparse":  # its __all__ is the torch.sparse namespace; these two are top-level
        assert all(hasattr(loaded, name) for name in names)
    else:
        assert set(names) == set(loaded.__all__)
    rows = [row for row in ROWS.values() if row.function.__module__ == loaded.__name__]
    defined = {row.name for row in rows if row.method} | {row.name + "_" for row in rows if row.inplace}
    assert set(methods) == defined


def test_import_loads_none_of_them_and_first_use_loads_each():
    modules = [f"chainrule.{m}" for m in (*ON_FIRST_USE, "cuda", "cupy_backend", "fft", "ops.conv", "ops.lu",
                                          "autograd.forward_ad", "ops.gamma_gradients")]
    out = fresh_python(
        "import sys, chainrule as torch\n"
        f"modules = {modules!r}\n"
        "print(*[m in sys.modules for m in modules])\n"
        "x = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64)\n"
        "print(type(torch.Tensor.__dict__['cholesky']).__name__)\n"
        "print(round(float(x.cholesky()[1, 1]), 6), type(torch.Tensor.__dict__['cholesky']).__name__)\n"
        "print(torch.tensor([12]).gcd_(torch.tensor([18])).item(), torch.argwhere(x > 2).tolist() == [[0, 0], [1, 1]])\n"
        "print(isinstance(x, torch.DoubleTensor), torch.cuda.is_available())\n"
        "print(*[m in sys.modules for m in modules[:4]])\n")
    assert out == ["False"] * len(modules) + ["OnFirstUse", "1.658312", "function", "6", "True", "True", "False"] \
        + ["True"] * 4


def test_names_and_methods_after_loading_are_the_modules_own():
    import chainrule.factorizations as factorizations
    import chainrule.number_parts as number_parts

    assert chainrule.svd is factorizations.svd and chainrule.frexp is number_parts.frexp
    x = chainrule.tensor([8.0, 3.0])
    assert chainrule.Tensor.frexp is number_parts.frexp
    mantissa, exponent = x.frexp()
    assert mantissa.tolist() == [0.5, 0.75] and exponent.tolist() == [4, 2]
    assert {"svd", "gcd", "stft", "FloatTensor", "cuda", "nn"} <= set(dir(chainrule))


def test_star_import_reaches_every_name():
    namespace: dict = {}
    exec("from chainrule import *", namespace)
    assert {"svd", "lcm", "column_stack", "LongTensor", "hann_window", "sparse_coo_tensor"} <= set(namespace)


def test_cuda_device_before_chainrule_cuda_is_touched():
    """A tensor made on "cuda" reaches CuPy's loader without ``chainrule.cuda`` (the same answer
    as after it: here no CuPy or no GPU, so the same one-line RuntimeError)."""
    code = ("import chainrule\n"
            "try:\n"
            "    chainrule.zeros(2, device='cuda')\n"
            "except RuntimeError as error:\n"
            "    print(str(error).split(':')[0])\n")
    before = fresh_python(code)
    after = fresh_python("import chainrule.cuda\n" + code)
    assert before == after and " ".join(before).startswith("CUDA")
