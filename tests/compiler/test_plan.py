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
    conv_out = match.group(1)
    over = re.search(rf"^\s*(v\d+) = {conv_out} if owned\({conv_out}\) else allocate\(", plan.listing, re.M)
    assert over, plan.listing
    assert f"relu_kernel({conv_out}, out={over.group(1)})" in plan.listing, plan.listing
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
    relu_out = re.search(rf"relu_kernel\({conv_out}, out=(\w+)\)", plan.listing).group(1)
    assert not re.search(rf"^\s*{relu_out} = {conv_out} if owned", plan.listing, re.M), plan.listing
    # (the addition, where the convolution's output is read for the last time, may write over it)
    xt, wt = torch.from_numpy(x.numpy()), torch.from_numpy(w.detach().numpy())
    yt = torch.nn.functional.conv2d(xt, wt)
    expected = (torch.relu(yt) + yt).sum().item()
    assert abs(results[-1].item() - expected) <= 1e-4 * abs(expected)
    assert results[-1].item() == conv_relu_plus_conv(x, w).item()


def test_relu_backward_writes_over_a_gradient_only_the_program_holds():
    rng = np.random.default_rng(1)
    layer = chainrule.nn.Linear(5, 7)
    x = chainrule.tensor(rng.standard_normal((4, 5)).astype(np.float32))

    def loss_of(a):
        return F.relu(layer(a)).square().sum()

    plan, results = _plan_after_three_calls(loss_of, x)
    assert "backward_over(np, g" in plan.listing and "if owned(g" in plan.listing, plan.listing
    results[-1].backward()
    replayed = [p.grad.numpy().copy() for p in layer.parameters()]
    layer.zero_grad()
    loss_of(x).backward()
    for got, want in zip(replayed, [p.grad.numpy() for p in layer.parameters()]):
        np.testing.assert_array_equal(got, want)


def test_owned_means_held_by_one_variable_and_not_a_view_of_shared_memory():
    from chainrule.compiler.plan import owned

    fresh = np.ones(3)
    assert owned(fresh)
    alias = fresh
    assert not owned(fresh)
    del alias
    kept = [fresh]
    assert not owned(fresh)
    kept.clear()
    assert owned(fresh)
    transposed = np.ones((2, 3)).T  # a view whose memory nothing else holds
    assert owned(transposed)
    base = np.ones(4)
    window = base[1:]
    assert not owned(window)  # its memory is also reachable through `base`
    del base
    assert owned(window)
    assert not owned(np.broadcast_to(np.ones(3), (2, 3)))  # read-only, overlapping
    read_only = np.ones(3)
    read_only.flags.writeable = False
    assert not owned(read_only)
    assert not owned([1.0, 2.0])


def test_a_replay_warns_where_eager_warns_and_only_there():
    """Sigmoid's kernel overflows on purpose (exp(1000) = inf gives an exact 0) and runs
    silenced, as eager's sigmoid does; an overflow eager reports is reported by a replay too."""
    import warnings

    big = chainrule.tensor([-1000.0, 0.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan, results = _plan_after_three_calls(lambda x: x.sigmoid() * 2.0, big)
    assert plan.errstate == {"over": "ignore"}
    assert results[-1].tolist() == [0.0, 1.0, 2.0]

    def overflowing(x):
        return x * 1e30 * 1e30

    plan, _ = _plan_after_three_calls(overflowing, chainrule.tensor([1.0]))
    assert plan.errstate == {}
    compiled = chainrule.compile(overflowing)
    for _ in range(2):
        compiled(chainrule.tensor([1.0]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eager_result = overflowing(chainrule.tensor([1.0]))
        replayed = compiled(chainrule.tensor([1.0]))
    overflow = [str(w.message) for w in caught if "overflow" in str(w.message)]
    assert len(overflow) == 2 and replayed.tolist() == eager_result.tolist() == [float("inf")]
