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
    "divide": (2.0,), "true_divide": (2.0,), "pow": (2.0,), "mvlgamma": (1,), "igamma": ("other",), "igammac": ("other",), "clamp": (0.2, 0.6), "clip": (0.2, 0.6),
    "clamp_min": (0.3,), "clamp_max": (0.3,), "fmod": (0.3,), "remainder": (0.3,), "floor_divide": (0.3,), "atan2": ("other",),
    "arctan2": ("other",), "hypot": ("other",), "xlogy": ("other",), "lerp": ("other", 0.25),
    "addcmul": ("other", "other"), "addcdiv": ("other", "other"), "logit": (0.01,),
    "masked_fill": ("mask", -1.0), "scatter": (0, "index", "other"), "scatter_add": (0, "index", "other"),
    "logaddexp2": ("other",), "copysign": ("other",), "float_power": (2.0,), "masked_scatter": ("mask", "12"),
    "renorm": (2, 0, 1.0), "scatter_reduce": (1, "index", "other", "amax"),
    "index_reduce": (0, "rows", "other", "prod"), "cumsum": (1,), "cumprod": (1,), "addmm": ("other", "4x4"), "addmv": ("3x4", "4"), "addr": ("3", "4"),
    "baddbmm": ("2x3x5", "2x5x4"), "addbmm": ("2x3x5", "2x5x4"), "ldexp": ("other",),
}
#: The tensor's own shape where it is not (3, 4).
SHAPES = {"addmv": (3,), "baddbmm": (2, 3, 4)}
#: Where the values must stay inside the op's domain (log, acos ...): (low, high).
DOMAIN = {"acos": (-0.9, 0.9), "arccos": (-0.9, 0.9), "asin": (-0.9, 0.9), "arcsin": (-0.9, 0.9),
          "acosh": (1.1, 3.0), "arccosh": (1.1, 3.0),
          "logit": (0.05, 0.95)}
#: Ops with no derivative anywhere (rounding) give zero gradients, as PyTorch's.
#: In-place forms whose result is a truth value or bits (comparisons, logical and bitwise ops):
#: no gradient, and bitwise ones take integers; tested on their own below.
UNGRADED = {"eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater", "ge", "greater_equal",
            "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
            "bitwise_left_shift", "bitwise_right_shift", "logical_not",
            "gcd", "lcm", "heaviside", "nextafter"}  # (tests/test_number_parts.py)
INPLACE_NAMES = sorted(row.name for row in ROWS.values() if row.inplace and row.name not in UNGRADED)


def _inputs(name: str, lib):
    low, high = DOMAIN.get(name, (0.1, 0.9))
    rng = np.random.default_rng(0)
    x = rng.uniform(low, high, SHAPES.get(name, (3, 4)))
    other = rng.uniform(0.5, 1.5, (3, 4))
    special = {"other": lambda: lib.tensor(other), "mask": lambda: lib.tensor(x > 0.5),
               "index": lambda: lib.tensor(np.array([[2, 0, 1, 0], [1, 2, 0, 1], [0, 1, 2, 2]])),
               "rows": lambda: lib.tensor([2, 0, 2])}

    def operand(spec):  # a name above, a shape such as "2x3x5" (uniform values), or a word as it is
        if spec in special:
            return special[spec]()
        if not spec.replace("x", "").isdigit():
            return spec
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


#: In-place forms with no derivative in the tensor itself, in PyTorch too (igamma's in a; floor_divide's).
NO_INPUT_GRADIENT = {"igamma", "igammac", "floor_divide"}


@pytest.mark.parametrize("name", [n for n in INPLACE_NAMES if n not in NO_INPUT_GRADIENT])
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


@pytest.mark.parametrize("name", sorted(UNGRADED))
def test_truth_and_bit_in_place_forms_match_pytorch(name):
    """``x.gt_(y)`` writes the comparison into ``x`` in its own dtype (1 and 0), as PyTorch."""
    rng = np.random.default_rng(1)
    integers = name.startswith("bitwise") or name in ("gcd", "lcm")
    make = (lambda: rng.integers(0, 16, (3, 4))) if integers else (lambda: rng.integers(0, 3, (3, 4)).astype(float))
    x, other = make(), make()
    args = () if name in ("bitwise_not", "logical_not") else (other,)
    ours = getattr(chainrule.tensor(x), name + "_")(*[chainrule.tensor(a) for a in args])
    theirs = getattr(torch.tensor(x), name + "_")(*[torch.tensor(a) for a in args])
    assert ours.dtype == (chainrule.int64 if integers else chainrule.float64)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_unfold_windows_match_pytorch():
    from op_parity import check

    x = np.arange(2 * 3 * 8, dtype=float).reshape(2, 3, 8)
    check(lambda L, t: [t.unfold(2, 3, 2), t.unfold(1, 2, 1), t.unfold(-1, 8, 1), t.unfold(2, 2, 2).unfold(1, 3, 3)], x)
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 2 is 8 but size is 9"):
            lib.zeros(2, 3, 8).unfold(2, 9, 1)
        with pytest.raises(RuntimeError, match="step is 0 but must be > 0"):
            lib.zeros(2, 3, 8).unfold(2, 2, 0)


def test_conversions_and_facts_like_pytorch():
    for name in ("short", "char", "byte", "cfloat", "cdouble"):
        assert str(getattr(chainrule.ones(2), name)().dtype).split(".")[1] == \
            str(getattr(torch.ones(2), name)().dtype).split(".")[1]
    for lib in (chainrule, torch):
        x = lib.zeros(3, 4, dtype=lib.float64)
        assert (x.is_cpu, x.get_device(), x.itemsize, x.nbytes) == (True, -1, 8, 96)
        assert x.is_signed() and not lib.zeros(2, dtype=lib.uint8).is_signed()
        assert x.is_same_size(lib.ones(3, 4)) and not x.is_same_size(lib.ones(4, 3))
        assert lib.tensor([2.0]).is_nonzero() and not lib.tensor(0.0).is_nonzero()
        with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
            x.is_nonzero()


@pytest.mark.parametrize("name,args,check", [
    ("random_", (3, 7), lambda v: set(np.unique(v)) <= set(range(3, 7)) and len(np.unique(v)) == 4),
    ("random_", (5,), lambda v: v.min() >= 0 and v.max() <= 4),
    ("exponential_", (2.0,), lambda v: v.min() > 0 and abs(v.mean() - 0.5) < 0.05),
    ("geometric_", (0.25,), lambda v: v.min() >= 1 and abs(v.mean() - 4.0) < 0.4),
    ("log_normal_", (0.0, 0.25), lambda v: v.min() > 0 and abs(np.log(v).std() - 0.25) < 0.03),
    ("cauchy_", (1.0, 0.5), lambda v: abs(np.median(v) - 1.0) < 0.1),
])
def test_random_fills_follow_their_laws_and_the_generator(name, args, check):
    chainrule.manual_seed(4)
    x = chainrule.empty(4000, dtype=chainrule.float64)
    assert getattr(x, name)(*args) is x
    assert check(x.numpy())
    chainrule.manual_seed(4)
    again = getattr(chainrule.empty(4000, dtype=chainrule.float64), name)(*args)
    np.testing.assert_array_equal(again.numpy(), x.numpy())


def test_random_integers_default_range_and_errors():
    chainrule.manual_seed(0)
    assert chainrule.empty(100, dtype=chainrule.uint8).random_().numpy().max() <= 255
    assert chainrule.empty(50).random_().numpy().max() <= 2 ** 24
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
            lib.empty(3).random_(5, 2)


@pytest.mark.parametrize("dtype,bounds", [("uint8", (300,)), ("uint8", (-300, 2)), ("int8", (2 ** 20,)),
                                          ("int16", (2 ** 40,)), ("int32", (2 ** 40,))])
def test_random_integers_out_of_the_dtype_are_refused_like_torch(dtype, bounds):
    with pytest.raises(RuntimeError) as theirs:
        torch.zeros(2, dtype=getattr(torch, dtype)).random_(*bounds)
    with pytest.raises(RuntimeError, match=str(theirs.value)):
        chainrule.zeros(2, dtype=getattr(chainrule, dtype)).random_(*bounds)


@pytest.mark.parametrize("call", [lambda L: L.ones(3).unsqueeze_(dim=0), lambda L: L.ones(1, 3).squeeze_(dim=0),
                                  lambda L: L.ones(2, 3).transpose_(dim0=0, dim1=1)])
def test_in_place_views_take_their_keywords(call):
    assert tuple(call(chainrule).shape) == tuple(call(torch).shape)


def _add_one_in_place(tensor):
    with chainrule.no_grad():
        tensor.add_(1.0)


def test_share_memory_makes_a_forked_process_s_changes_visible():
    import multiprocessing

    t = chainrule.arange(6.0).reshape(2, 3)
    view = t[1]
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared() and t[0].is_shared()
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and not view.is_shared()
    version = t._version
    process = multiprocessing.get_context("fork").Process(target=_add_one_in_place, args=(t,))
    process.start()
    process.join()
    assert process.exitcode == 0
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    t.mul_(2)
    assert t._version == version + 1  # (the version counter follows the new storage)
    assert chainrule.zeros(0).share_memory_().is_shared()


@pytest.mark.parametrize("view", [lambda x: x, lambda x: x[2:], lambda x: x.view(3, 4)[1:, 2:],
                                  lambda x: x.view(3, 4).t()[1], lambda x: x.view(3, 4)[:, 1], lambda x: x[5:].view(7)[3:]])
def test_storage_offset_of_views(view):
    assert view(chainrule.arange(12.0)).storage_offset() == view(torch.arange(12.0)).storage_offset()
