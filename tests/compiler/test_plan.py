"""The programs a plan writes (chainrule.compiler.plan): where an elementwise kernel writes,
and that the replayed numbers stay eager's."""
from __future__ import annotations

import re

import numpy as np
import torch

import chainrule
import chainrule.nn.functional as F


def _plan_after_three_calls(fn, *args):
    compiled = chainrule.compile(fn)
    results = [compiled(*args) for _ in range(3)]  # two traced calls, then a replay
    plan = compiled.region.last_plan
    assert plan is not None
    return plan, results


def _conv_input_and_weight():
    rng = np.random.default_rng(0)
    x = chainrule.tensor(rng.standard_normal((2, 1, 8, 8)).astype(np.float32))
    w = chainrule.tensor(rng.standard_normal((3, 1, 3, 3)).astype(np.float32), requires_grad=True)
    return x, w


def test_relu_writes_over_the_fresh_output_of_the_op_before_it():
    """conv's output is a fresh array that only the ReLU reads: the ReLU writes over it
    instead of a new array per call, and the result is eager's, bit for bit."""
    x, w = _conv_input_and_weight()

    def conv_relu(a, b):
        return F.relu(F.conv2d(a, b)).sum()

    plan, results = _plan_after_three_calls(conv_relu, x, w)
    match = re.search(r"^\s*(v\d+) = run\(n\d+, .*ConvolutionBackward0", plan.listing, re.M)
    assert match, plan.listing
    assert f"relu_kernel({match.group(1)}, out={match.group(1)})" in plan.listing, plan.listing
    eager = conv_relu(x, w)
    for result in results:
        assert result.item() == eager.item()
    results[-1].backward()
    replayed = w.grad.numpy().copy()
    w.grad = None
    eager.backward()
    np.testing.assert_array_equal(replayed, w.grad.numpy())


def test_a_fresh_array_read_again_later_is_not_written_over():
    x, w = _conv_input_and_weight()

    def conv_relu_plus_conv(a, b):
        y = F.conv2d(a, b)
        return (F.relu(y) + y).sum()

    plan, results = _plan_after_three_calls(conv_relu_plus_conv, x, w)
    conv_out = re.search(r"^\s*(v\d+) = run\(n\d+, .*ConvolutionBackward0", plan.listing, re.M).group(1)
    assert f"out={conv_out})" not in plan.listing, plan.listing
    xt, wt = torch.from_numpy(x.numpy()), torch.from_numpy(w.detach().numpy())
    yt = torch.nn.functional.conv2d(xt, wt)
    expected = (torch.relu(yt) + yt).sum().item()
    assert abs(results[-1].item() - expected) <= 1e-4 * abs(expected)
    assert results[-1].item() == conv_relu_plus_conv(x, w).item()
