"""F.fractional_max_pool2d/3d and nn.FractionalMaxPool2d/3d against PyTorch: with the same
``_random_samples`` the same maxima, indices and gradients, exactly; without, the same samples
after the same ``manual_seed`` (drawn as PyTorch draws them); the same errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

from conftest import assert_close

CASES = [  # input shape, kernel_size, output_size
    ((2, 3, 9, 11), (2, 3), (4, 5)),
    ((3, 10, 10), 2, (5, 5)),
    ((2, 3, 7, 9), 3, (5, 7)),
    ((2, 5, 7, 8), (1, 2), (7, 1)),
    ((2, 3, 9, 11), 2, 1),
    ((2, 2, 6, 7, 8), (2, 3, 2), (3, 4, 5)),
    ((3, 5, 6, 7), 2, (2, 3, 4)),
]


def _both(shape, kernel, output_size, dtype, ties=False, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, shape).astype(dtype) if ties else rng.standard_normal(shape).astype(dtype)
    dims = len(output_size) if isinstance(output_size, tuple) else len(shape) - 2
    batch = shape[0] if len(shape) == dims + 2 else 1
    samples = rng.random((batch, shape[-dims - 1], dims)).astype(dtype)
    weights = rng.standard_normal(100_000).astype(dtype)
    results = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x, requires_grad=True)
        pool = getattr(lib.nn.functional, f"fractional_max_pool{dims}d")
        out, indices = pool(xt, kernel, output_size=output_size, return_indices=True,
                            _random_samples=lib.tensor(samples), **kwargs)
        (out * lib.tensor(weights[:out.numel()].reshape(tuple(out.shape)))).sum().backward()
        results.append((out, indices, xt.grad))
    return results


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ties", [False, True])
def test_values_indices_and_gradients_equal_torchs(case, dtype, ties):
    (out, indices, grad), (t_out, t_indices, t_grad) = _both(*case, dtype, ties)
    assert out.detach().numpy().dtype == t_out.detach().numpy().dtype and indices.dtype == chainrule.int64
    np.testing.assert_array_equal(out.detach().numpy(), t_out.detach().numpy())
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())
    np.testing.assert_array_equal(grad.numpy(), t_grad.numpy())


def test_nan_wins_as_in_torch():
    x = np.arange(2 * 8 * 8, dtype=np.float64).reshape(1, 2, 8, 8)
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = x[0, 1, 5, 5] = np.nan
    samples = np.array([[[0.3, 0.7], [0.9, 0.1]]])
    results = [lib.nn.functional.fractional_max_pool2d(lib.tensor(x), 2, output_size=5, return_indices=True,
                                                        _random_samples=lib.tensor(samples))
               for lib in (chainrule, torch)]
    np.testing.assert_array_equal(results[0][1].numpy(), results[1][1].numpy())
    np.testing.assert_array_equal(results[0][0].numpy(), results[1][0].numpy())


@pytest.mark.parametrize("dims", [2, 3])
def test_drawn_samples_follow_torchs_stream(dims):
    """Without ``_random_samples`` the windows come from ``rand(N, C, dims)`` in the input's
    dtype, which equals PyTorch's after the same seed: the same result."""
    rng = np.random.default_rng(1)
    shape = (2, 3, 9, 10) if dims == 2 else (2, 3, 6, 7, 8)
    x = rng.standard_normal(shape).astype(np.float32)
    outs = []
    for lib in (chainrule, torch):
        lib.manual_seed(7)
        module = getattr(lib.nn, f"FractionalMaxPool{dims}d")(2, output_ratio=0.5, return_indices=True)
        first, first_indices = module(lib.tensor(x))
        second = module(lib.tensor(x))[0]
        outs.append((first.numpy(), first_indices.numpy(), second.numpy()))
    for ours, theirs in zip(*outs):
        np.testing.assert_array_equal(ours, theirs)


def test_module_with_fixed_samples_repr_and_state_dict():
    samples = np.random.default_rng(2).random((2, 3, 2))
    ours = chainrule.nn.FractionalMaxPool2d(3, output_size=(4, 5), _random_samples=chainrule.tensor(samples))
    theirs = torch.nn.FractionalMaxPool2d(3, output_size=(4, 5), _random_samples=torch.tensor(samples))
    assert repr(ours) == repr(theirs) == "FractionalMaxPool2d()"
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["_random_samples"]
    assert ours.kernel_size == theirs.kernel_size and ours.output_size == theirs.output_size
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 9))
    assert_close(ours(chainrule.tensor(x)), theirs(torch.tensor(x)), rtol=0, atol=0)
    assert chainrule.nn.FractionalMaxPool3d(2, output_ratio=0.5).output_ratio == (0.5, 0.5, 0.5)
    assert list(chainrule.nn.FractionalMaxPool3d(2, output_size=3).state_dict()) == []


def test_zero_batch_and_indices_feed_max_unpool():
    outs = [lib.nn.functional.fractional_max_pool2d(lib.zeros(0, 3, 7, 9), 2, output_size=(5, 7),
                                                     _random_samples=lib.zeros(0, 3, 2)) for lib in (chainrule, torch)]
    assert tuple(outs[0].shape) == tuple(outs[1].shape) == (0, 3, 5, 7)
    (out, indices, _), (t_out, t_indices, _) = _both((1, 2, 8, 8), 2, (4, 4), np.float64)
    np.testing.assert_array_equal(
        chainrule.nn.functional.max_unpool2d(out.detach(), indices, 2, output_size=(8, 8)).numpy(),
        torch.nn.functional.max_unpool2d(t_out.detach(), t_indices, 2, output_size=(8, 8)).numpy())


def test_second_derivative_flows_through_the_gather():
    x = chainrule.tensor(np.random.default_rng(4).standard_normal((1, 2, 6, 6)), requires_grad=True)
    samples = chainrule.tensor([[[0.2, 0.6], [0.5, 0.5]]], dtype=chainrule.float64)
    out = chainrule.nn.functional.fractional_max_pool2d(x, 2, output_size=3, _random_samples=samples)
    (grad,) = chainrule.autograd.grad((out ** 2).sum(), x, create_graph=True)
    (second,) = chainrule.autograd.grad(grad.sum(), x)
    mask = (grad.detach().numpy() != 0)
    np.testing.assert_array_equal(second.numpy() != 0, mask)


_X2, _X3 = (2, 3, 7, 9), (2, 3, 5, 7, 9)
ERRORS = {
    "no size": (_X2, lambda F, x: F.fractional_max_pool2d(x, 3)),
    "pool too tall": (_X2, lambda F, x: F.fractional_max_pool2d(x, 3, output_size=(6, 8))),
    "pool too wide": (_X2, lambda F, x: F.fractional_max_pool2d(x, 3, output_size=(5, 8))),
    "ratio of three": (_X2, lambda F, x: F.fractional_max_pool2d(x, 3, output_ratio=(0.5, 0.5, 0.5))),
    "ratio a float (torch's own TypeError)": (_X2, lambda F, x: F.fractional_max_pool2d(x, 3, output_ratio=0.5)),
    "kernel of three": (_X2, lambda F, x: F.fractional_max_pool2d(x, (3, 3, 3), output_size=(5, 7))),
    "output of three": (_X2, lambda F, x: F.fractional_max_pool2d(x, 3, output_size=(5, 7, 1))),
    "2-D input": ((3, 7), lambda F, x: F.fractional_max_pool2d(x, 3, output_size=(2, 2),
                                                               _random_samples=x.new_zeros(1, 3, 2))),
    "empty plane": ((2, 3, 0, 7), lambda F, x: F.fractional_max_pool2d(x, 3, output_size=(5, 7))),
    "samples of 3": (_X2, lambda F, x: F.fractional_max_pool2d(x, 3, output_size=(5, 7),
                                                               _random_samples=x.new_zeros(2, 3, 3))),
    "few samples": (_X2, lambda F, x: F.fractional_max_pool2d(x, 3, output_size=(5, 7),
                                                              _random_samples=x.new_zeros(1, 3, 2))),
    "samples channels": (_X2, lambda F, x: F.fractional_max_pool2d(x, 3, output_size=(5, 7),
                                                                   _random_samples=x.new_zeros(2, 2, 2))),
    "samples 4-D": (_X2, lambda F, x: F.fractional_max_pool2d(x, 3, output_size=(5, 7),
                                                              _random_samples=x.new_zeros(2, 3, 2, 1))),
    "samples dtype": (_X2, lambda F, x: F.fractional_max_pool2d(x, 3, output_size=(5, 7),
                                                                _random_samples=x.new_zeros(2, 3, 2).double())),
    "3d no size": (_X3, lambda F, x: F.fractional_max_pool3d(x, 3)),
    "3d pool too long": (_X3, lambda F, x: F.fractional_max_pool3d(x, 3, output_size=(4, 5, 7))),
    "3d kernel of two": (_X3, lambda F, x: F.fractional_max_pool3d(x, (2, 2), output_size=(2, 5, 7))),
    "3d 2-D input": ((7, 9), lambda F, x: F.fractional_max_pool3d(x, 2, output_size=(2, 5, 7),
                                                                  _random_samples=x.new_zeros(2, 3, 3))),
    "3d samples of 2": (_X3, lambda F, x: F.fractional_max_pool3d(x, 2, output_size=(2, 5, 7),
                                                                  _random_samples=x.new_zeros(2, 3, 2))),
    "module no size": (_X2, lambda F, x: _module(F, 2)(3)),
    "module both": (_X2, lambda F, x: _module(F, 2)(3, 4, 0.5)),
    "module ratio": (_X2, lambda F, x: _module(F, 2)(3, output_ratio=1.5)),
    "module 3d kernel": (_X3, lambda F, x: _module(F, 3)(0, 4)),
}


def _module(F, dims):
    lib = chainrule if F is chainrule.nn.functional else torch
    return getattr(lib.nn, f"FractionalMaxPool{dims}d")


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_torch(case):
    shape, call = ERRORS[case]
    with pytest.raises(Exception) as theirs:
        call(torch.nn.functional, torch.zeros(shape))
    with pytest.raises(Exception) as ours:
        call(chainrule.nn.functional, chainrule.zeros(shape))
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)
