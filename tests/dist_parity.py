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


def family(build, params, *, reparameterised=False, seed=11, sample_shape=(4,), dtype="float64", extra=None):
    """Every public quantity of ``build(D, *params)`` (params as tensors needing gradients),
    the same under torch and chainrule: samples after a seed, log_prob of them, shapes,
    mean, mode, variance, stddev, entropy, cdf/icdf where defined, ``expand``, the gradient
    of an rsample, and ``extra(d, lib)``."""
    def run(lib):
        lib.manual_seed(seed)
        kind = getattr(lib, dtype)
        tensors = [lib.tensor(np.asarray(p, dtype=np.float64), dtype=kind, requires_grad=True) for p in params]
        d = build(lib.distributions, *tensors)
        sample = d.sample(sample_shape)
        out = {"sample": sample, "log_prob": d.log_prob(sample),
               "shapes": (tuple(d.batch_shape), tuple(d.event_shape)), "support": d.support,
               "expanded": d.expand((2,) + tuple(d.batch_shape)).log_prob(sample[0])}
        for name in ("mean", "mode", "variance", "stddev", "entropy", "cdf", "icdf"):
            try:
                value = getattr(d, name)
                if name in ("cdf", "icdf"):
                    value = value(sample if name == "cdf" else lib.full_like(sample, 0.3))
                out[name] = value() if callable(value) else value
            except NotImplementedError:
                out[name] = "NotImplementedError"
        if reparameterised:
            draw = d.rsample((3,))
            out["rsample"] = draw
            out["grads"] = lib.autograd.grad(draw.sum() + out["log_prob"].sum(), tensors, allow_unused=True)
        if extra is not None:
            out["extra"] = extra(d, lib)
        return out
    return run


def divergence(pick):
    """A ``run(lib)`` for :func:`check`: ``kl_divergence(*pick(D, t))`` where ``t`` makes float64
    tensors needing gradients, with the gradients of its finite entries (``outcome`` turns an
    exception, such as an unregistered pair, into its type and message)."""
    def run(lib):
        params = []

        def t(value):
            params.append(lib.tensor(np.asarray(value, dtype=np.float64), requires_grad=True))
            return params[-1]
        kl = lib.distributions.kl_divergence(*pick(lib.distributions, t))
        finite = kl.detach().isfinite()
        grads = lib.autograd.grad(kl[finite].sum(), params, allow_unused=True) if bool(finite.any()) else []
        return [kl, [g if g is not None else "none" for g in grads]]
    return run
