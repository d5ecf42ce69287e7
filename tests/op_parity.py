"""Run one expression on chainrule and on PyTorch and compare values, dtypes and gradients.

An expression is written once as ``fn(lib, *inputs)``, where ``lib`` is ``chainrule`` or
``torch``: the two APIs are the same, so the very same lambda runs on both.  Where the two
spellings differ (``F.conv2d`` and ``TF.conv2d``), :func:`check_pair` takes one of each.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close, pair


def _convert(value, requires_grad):
    """One input as a (chainrule, torch) pair.  Float arrays get gradients; integer and
    boolean arrays and Python scalars pass through as constants."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            array = value.astype(np.float64)
            return (chainrule.tensor(array, requires_grad=requires_grad),
                    torch.tensor(array, requires_grad=requires_grad))
        return chainrule.tensor(value), torch.tensor(value)
    return value, value


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def compare(actual, expected, rtol=1e-9, atol=1e-9, what="value"):
    """Recursively compare outputs (tensors, tuples of tensors, Python scalars)."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, chainrule.Tensor), f"{what}: got {type(actual).__name__}"
        assert dtype_name(actual) == dtype_name(expected), (
            f"{what}: dtype {actual.dtype} != {expected.dtype}")
        assert tuple(actual.shape) == tuple(expected.shape), (
            f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}")
        assert actual.requires_grad == expected.requires_grad, (
            f"{what}: requires_grad {actual.requires_grad} != {expected.requires_grad}")
        if expected.dtype == torch.bool:
            np.testing.assert_array_equal(actual.detach().numpy(), expected.detach().numpy(), err_msg=what)
        else:
            assert_close(actual, expected, rtol=rtol, atol=atol, what=what)
    elif isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected), what
        for i, (a, e) in enumerate(zip(actual, expected)):
            compare(a, e, rtol, atol, f"{what}[{i}]")
    else:
        assert actual == expected, f"{what}: {actual!r} != {expected!r}"


def _flat_outputs(out):
    if isinstance(out, (tuple, list)):
        items = []
        for o in out:
            items.extend(_flat_outputs(o))
        return items
    return [out]


def check(fn, *inputs, grad=True, rtol=1e-9, atol=1e-9, seed=0):
    """Values, dtypes, shapes of ``fn`` and (with ``grad``) the gradients of every float
    input, for a random upstream gradient; returns the chainrule and torch outputs."""
    pairs = [_convert(v, grad) for v in inputs]
    c_in = [p[0] for p in pairs]
    t_in = [p[1] for p in pairs]
    out_t = fn(torch, *t_in)
    out_c = fn(chainrule, *c_in)
    compare(out_c, out_t, rtol, atol)
    if not grad:
        return out_c, out_t
    rng = np.random.default_rng(seed)
    c_outs, t_outs, seeds = [], [], []
    for oc, ot in zip(_flat_outputs(out_c), _flat_outputs(out_t)):
        if isinstance(ot, torch.Tensor) and ot.requires_grad:
            s = rng.standard_normal(tuple(ot.shape))
            c_outs.append(oc)
            t_outs.append(ot)
            seeds.append(s)
    if not t_outs:
        return out_c, out_t
    torch.autograd.backward(t_outs, [torch.tensor(s) for s in seeds])
    chainrule.autograd.backward(c_outs, [chainrule.tensor(s) for s in seeds])
    for i, (c, t) in enumerate(zip(c_in, t_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:
                assert c.grad is None or not np.any(c.grad.numpy()), f"grad of input {i}: expected None"
            else:
                assert c.grad is not None, f"grad of input {i} is None"
                compare(c.grad, t.grad, rtol, atol, f"grad of input {i}")
    return out_c, out_t


def check_pair(fc, ft, arrays, rng, what, grad_out=None, rtol=1e-9, atol=1e-9):
    """``fc`` (chainrule) and ``ft`` (torch) on the same float64 ``arrays`` (one array or a
    list): the same forward and the same gradient of every input for a random upstream
    gradient (or ``grad_out``).  A ``(values, indices)`` result (max pooling's) must give the
    same int64 indices; the values are differentiated."""
    if isinstance(arrays, np.ndarray):
        arrays = [arrays]
    pairs = [pair(a) for a in arrays]
    out_c = fc(*[c for c, _ in pairs])
    out_t = ft(*[t for _, t in pairs])
    if isinstance(out_t, tuple):
        assert out_c[1].dtype == chainrule.int64
        np.testing.assert_array_equal(out_c[1].numpy(), out_t[1].numpy(), err_msg=f"{what}: indices")
        out_c, out_t = out_c[0], out_t[0]
    assert_close(out_c, out_t, rtol, atol, what=f"{what}: forward")
    g = rng.standard_normal(tuple(out_t.shape)) if grad_out is None else grad_out
    out_c.backward(chainrule.tensor(g))
    out_t.backward(torch.tensor(g))
    for i, (c, t) in enumerate(pairs):
        assert_close(c.grad, t.grad, rtol, atol, what=f"{what}: gradient of input {i}")


def raises_like_torch(fc, ft, pattern):
    """Both raise the same exception type; ours says ``pattern`` (naming the shapes)."""
    with pytest.raises(Exception) as torch_error:
        ft()
    with pytest.raises(type(torch_error.value)) as ours:
        fc()
    assert re.search(pattern, str(ours.value)), str(ours.value)


class Inputs:
    """Random float64 test inputs from one seeded stream, by the domain an op needs."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def normal(self, *shape):
        return np.asarray(self.rng.standard_normal(shape))

    def positive(self, *shape):
        return np.asarray(self.rng.uniform(0.5, 2.0, shape))

    def unit(self, *shape):
        return np.asarray(self.rng.uniform(-0.9, 0.9, shape))

    def away_from_zero(self, *shape):
        return np.asarray(self.rng.uniform(0.3, 2.0, shape) * self.rng.choice([-1.0, 1.0], shape))
