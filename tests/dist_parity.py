"""Run one piece of distributions code with torch and with chainrule and compare what each gives:
tensors by value, strings (reprs, messages) exactly, exceptions by type and message."""
from __future__ import annotations

import numpy as np
import torch

import chainrule

LIBS = (torch, chainrule)


def outcome(run, lib):
    """``run(lib)`` with every tensor as NumPy, every other value as its string; an exception
    as (type name, message) with ``torch`` read as ``chainrule``."""
    try:
        value = run(lib)
    except Exception as error:  # noqa: BLE001 (the exception itself is what is compared)
        return ("raised", type(error).__name__, str(error).replace("torch", "chainrule"))
    return _plain(value)


def _plain(value):
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return value.detach().numpy()
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value).replace("torch", "chainrule")


def assert_same(actual, expected, rtol=1e-10, atol=1e-12, where="value"):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r} vs {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, rtol, atol, f"{where}[{i}]")
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected), f"{where}: {actual!r} vs {expected!r}"
        for key in expected:
            assert_same(actual[key], expected[key], rtol, atol, f"{where}[{key!r}]")
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), f"{where}: {actual!r} vs {expected!r}"
        assert actual.shape == expected.shape and actual.dtype == expected.dtype, \
            f"{where}: {actual.shape} {actual.dtype} vs {expected.shape} {expected.dtype}"
        if expected.dtype.kind in "fc":
            np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=where)
        else:
            np.testing.assert_array_equal(actual, expected, err_msg=where)
    elif isinstance(expected, float):
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=where)
    else:
        assert actual == expected, f"{where}: {actual!r} vs {expected!r}"


def check(run, rtol=1e-10, atol=1e-12):
    """``run(lib)`` gives the same with chainrule as with torch."""
    expected, actual = (outcome(run, lib) for lib in LIBS)
    assert_same(actual, expected, rtol, atol)
