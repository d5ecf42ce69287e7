"""Tensor methods installed from the registration table: every in-place form writes exactly
what its out-of-place form computes (values and gradients), under no_grad and recorded, and
matches PyTorch's in-place method."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.registry import ROWS

from conftest import assert_close

#: Arguments after the tensor itself, per in-place form (none: a unary op).
ARGS = {
    "add": (0.5,), "sub": (0.5,), "subtract": (0.5,), "mul": (1.5,), "multiply": (1.5,), "div": (2.0,),
    "divide": (2.0,), "true_divide": (2.0,), "pow": (2.0,), "clamp": (0.2, 0.6), "clip": (0.2, 0.6),
    "clamp_min": (0.3,), "clamp_max": (0.3,), "fmod": (0.3,), "remainder": (0.3,), "atan2": ("other",),
    "arctan2": ("other",), "hypot": ("other",), "xlogy": ("other",), "lerp": ("other", 0.25),
    "addcmul": ("other", "other"), "addcdiv": ("other", "other"), "logit": (0.01,),
    "masked_fill": ("mask", -1.0), "scatter": (0, "index", "other"), "scatter_add": (0, "index", "other"),
    "logaddexp2": ("other",), "addmm": ("other", "4x4"), "addmv": ("3x4", "4"), "addr": ("3", "4"),
    "baddbmm": ("2x3x5", "2x5x4"), "addbmm": ("2x3x5", "2x5x4"),
}
#: The tensor's own shape where it is not (3, 4).
SHAPES = {"addmv": (3,), "baddbmm": (2, 3, 4)}
#: Where the values must stay inside the op's domain (log, acos ...): (low, high).
DOMAIN = {"acos": (-0.9, 0.9), "arccos": (-0.9, 0.9), "asin": (-0.9, 0.9), "arcsin": (-0.9, 0.9),
          "logit": (0.05, 0.95)}
#: Ops with no derivative anywhere (rounding) give zero gradients, as PyTorch's.
INPLACE_NAMES = sorted(row.name for row in ROWS.values() if row.inplace)


def _inputs(name: str, lib):
    low, high = DOMAIN.get(name, (0.1, 0.9))
    rng = np.random.default_rng(0)
    x = rng.uniform(low, high, SHAPES.get(name, (3, 4)))
    other = rng.uniform(0.5, 1.5, (3, 4))
    special = {"other": lambda: lib.tensor(other), "mask": lambda: lib.tensor(x > 0.5),
               "index": lambda: lib.tensor(np.array([[2, 0, 1, 0], [1, 2, 0, 1], [0, 1, 2, 2]]))}

    def operand(spec):  # a name above, or a shape such as "2x3x5" (uniform values)
        if spec in special:
            return special[spec]()
        return lib.tensor(rng.uniform(0.5, 1.5, tuple(int(n) for n in spec.split("x"))))

    args = tuple(operand(a) if isinstance(a, str) else a for a in ARGS.get(name, ()))
    return x, args


def test_every_in_place_form_has_arguments_here():
    # A new in-place row needs a row in ARGS (or none, for a unary op): this keeps the list honest.
    assert len(INPLACE_NAMES) > 50


@pytest.mark.parametrize("name", INPLACE_NAMES)
def test_in_place_form_writes_its_out_of_place_result(name):
    x, args = _inputs(name, chainrule)
    expected = getattr(chainrule, name)(chainrule.tensor(x), *args)
    target = chainrule.tensor(x)
    returned = getattr(target, name + "_")(*args)
    assert returned is target
    assert_close(target, expected, rtol=1e-12, atol=1e-12, what=name)


@pytest.mark.parametrize("name", INPLACE_NAMES)
def test_in_place_form_records_the_same_gradient_as_its_out_of_place_form(name):
    x, args = _inputs(name, chainrule)
    leaf = chainrule.tensor(x, requires_grad=True)
    getattr(leaf * 1.0, name)(*args).sum().backward()
    out_of_place = leaf.grad
    leaf2 = chainrule.tensor(x, requires_grad=True)
    y = leaf2 * 1.0
    getattr(y, name + "_")(*args)
    y.sum().backward()
    assert_close(leaf2.grad, out_of_place, rtol=1e-12, atol=1e-12, what=name)


@pytest.mark.parametrize("name", [n for n in INPLACE_NAMES if hasattr(torch.Tensor, n + "_")])
def test_in_place_form_matches_pytorch(name):
    x, args = _inputs(name, chainrule)
    _, torch_args = _inputs(name, torch)
    ours = getattr(chainrule.tensor(x), name + "_")(*args)
    theirs = getattr(torch.tensor(x), name + "_")(*torch_args)
    assert_close(ours, theirs, what=name)


def test_fmod_in_place_keeps_the_dividend_sign():
    # It was an alias of remainder_: -3 fmod 2 is -1 (C's fmod), not 1.
    x = chainrule.tensor([-3.0, 3.0])
    x.fmod_(2)
    assert x.tolist() == [-1.0, 1.0]
    assert torch.tensor([-3.0, 3.0]).fmod_(2).tolist() == [-1.0, 1.0]


def test_methods_and_functional_forms_are_one_function():
    for row in ROWS.values():
        if row.method:
            assert getattr(chainrule.Tensor, row.name) is row.function, row.name
