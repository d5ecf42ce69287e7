"""Run one PyTorch program twice: with ``torch`` bound to the real torch, then with ``torch``
bound to chainrule, and compare what the two runs print and return.

The program's source is not edited: for chainrule's run it is executed inside
``chainrule.torch_alias.aliased()``, the import hook of ``chainrule run``, which resolves
``torch`` and ``torch.<sub>`` to ``chainrule`` and ``chainrule.<sub>`` (``import torch.nn as
nn``, ``from torch.utils.data import DataLoader`` ...). A program
reports through what it prints and through a module-level ``results`` dict (tensors,
numbers, strings, nested lists/dicts), and draws every random number from NumPy, so the two
runs start from the same weights and data.
"""
from __future__ import annotations

import builtins
import contextlib
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

import chainrule
from chainrule.torch_alias import aliased

PROGRAMS = Path(__file__).parent / "programs"


def execute(source: str, library: str, filename: str = "<program>") -> tuple[str, dict]:
    """Run ``source`` with ``torch`` bound to ``library`` ("torch" or "chainrule");
    returns (stdout, results)."""
    namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": filename}
    out = io.StringIO()
    lib = torch if library == "torch" else chainrule
    default_dtype = lib.get_default_dtype()
    try:
        with contextlib.redirect_stdout(out), (aliased() if library == "chainrule" else contextlib.nullcontext()):
            exec(compile(source, filename, "exec"), namespace)
    finally:  # a program may change global state: leave none behind for the next one
        lib.set_default_dtype(default_dtype)
        lib.set_grad_enabled(True)
        lib.set_default_device(None)  # PyTorch's default device is a mode that changes some ops
        lib.set_printoptions(profile="default")
    return out.getvalue(), namespace.get("results", {})


# -- comparing ----------------------------------------------------------------------------

def _dtype_name(dtype: Any) -> str:
    return str(dtype).rsplit(".", 1)[-1]


def _tolerance(dtype_name: str, rtol: float | None, atol: float | None) -> tuple[float, float]:
    if rtol is not None:
        return rtol, atol if atol is not None else rtol
    if dtype_name == "float64":
        return 1e-9, 1e-9
    return 1e-4, 1e-5


def compare(expected: Any, actual: Any, path: str = "results", rtol: float | None = None,
            atol: float | None = None) -> None:
    """``actual`` (chainrule's run) equals ``expected`` (torch's run): tensors in value,
    shape, dtype and requires_grad; numbers to tolerance; strings exactly."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, chainrule.Tensor), f"{path}: {type(actual).__name__}, expected a tensor"
        e, a = expected.detach().numpy(), actual.detach().numpy()
        assert _dtype_name(actual.dtype) == _dtype_name(expected.dtype), \
            f"{path}: dtype {actual.dtype} != {expected.dtype}"
        assert tuple(actual.shape) == tuple(expected.shape), f"{path}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
        assert actual.requires_grad == expected.requires_grad, f"{path}: requires_grad differs"
        r, t = _tolerance(_dtype_name(expected.dtype), rtol, atol)
        if e.dtype.kind in "fc":
            np.testing.assert_allclose(a, e, rtol=r, atol=t, err_msg=path)
        else:
            np.testing.assert_array_equal(a, e, err_msg=path)
    elif isinstance(expected, torch.dtype):
        assert _dtype_name(actual) == _dtype_name(expected), f"{path}: {actual} != {expected}"
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {type(actual).__name__}, expected a dict"
        assert list(actual) == list(expected), f"{path}: keys {list(actual)} != {list(expected)}"
        for key in expected:
            compare(expected[key], actual[key], f"{path}[{key!r}]", rtol, atol)
    elif isinstance(expected, (list, tuple)):  # torch.Size is a tuple
        assert isinstance(actual, (list, tuple)), f"{path}: {type(actual).__name__}, expected a sequence"
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(e, a, f"{path}[{i}]", rtol, atol)
    elif isinstance(expected, str):  # a printed form: the library's name may differ
        assert isinstance(actual, str) and actual.replace("chainrule.", "torch.") == expected, \
            f"{path}: {actual!r} != {expected!r}"
    elif isinstance(expected, bool) or expected is None:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
        assert type(actual) is type(expected), f"{path}: {type(actual).__name__} != {type(expected).__name__}"
    elif isinstance(expected, (int, float)):
        assert type(actual) is type(expected), f"{path}: {type(actual).__name__} != {type(expected).__name__}"
        r, t = _tolerance("float32", rtol, atol)
        assert math.isclose(actual, expected, rel_tol=r, abs_tol=t) or actual == expected, \
            f"{path}: {actual!r} != {expected!r}"
    elif isinstance(expected, np.ndarray):
        np.testing.assert_allclose(np.asarray(actual), expected, rtol=_tolerance(str(expected.dtype), rtol, atol)[0],
                                   atol=_tolerance(str(expected.dtype), rtol, atol)[1], err_msg=path)
        assert np.asarray(actual).dtype == expected.dtype, f"{path}: dtype differs"
    else:
        raise TypeError(f"{path}: cannot compare a {type(expected).__name__}")


_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")


def compare_stdout(expected: str, actual: str, rtol: float | None = None, atol: float | None = None) -> None:
    """The printed text is the same around its numbers, and the numbers agree to tolerance.
    The library's name (``torch.float64`` / ``chainrule.float64``) is the one difference
    allowed."""
    actual = actual.replace("chainrule.", "torch.")
    e_text, a_text = _NUMBER.split(expected), _NUMBER.split(actual)
    e_nums, a_nums = _NUMBER.findall(expected), _NUMBER.findall(actual)
    where = f"\n--- torch printed:\n{expected}\n--- chainrule printed:\n{actual}"
    assert e_text == a_text and len(e_nums) == len(a_nums), f"printed text differs{where}"
    r, t = _tolerance("float32", rtol, atol)
    for e, a in zip(e_nums, a_nums):
        assert math.isclose(float(a), float(e), rel_tol=r, abs_tol=t) or (e == a), \
            f"printed number {a} != {e}{where}"
