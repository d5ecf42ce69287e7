"""Graph breaks: what a plan cannot repeat runs eagerly, with one warning per reason, and
gives eager's numbers; ``fullgraph=True`` raises instead."""
from __future__ import annotations

import inspect
import random
import warnings

import numpy as np
import pytest

import chainrule
from chainrule.compiler import Unsupported


def _item(x):
    return x * x.sum().item()


def _control_flow(x):
    if x.sum() > 0:  # bool(tensor)
        return x * 2.0
    return x * 3.0


def _tolist(x):
    return x * float(len([v for v in x.tolist() if v > 0]))


def _numpy(x):
    return x * float(np.abs(x.detach().numpy()).max())


def _printing(x):
    print(x)
    return x * 2.0


def _hook_inside(x):
    h = x * 2.0
    h.register_hook(lambda g: g * 3.0)
    return h


def _nonzero_outside_the_ops(x):
    return x[(x > 0).nonzero()[:, 0]] * 2.0


def _random_outside_an_op(x):
    return x + random.random()  # Python's generator, not an op: a plan could not repeat it


def _random_factories(x):
    noise = chainrule.randn(*x.shape) + chainrule.rand_like(x) + chainrule.randint(0, 3, x.shape)
    keep = chainrule.bernoulli(chainrule.full(x.shape, 0.7))
    return (x + noise * chainrule.normal(0.0, 2.0, x.shape)) * keep + chainrule.randperm(x.shape[0])


def _inplace_on_a_view(x):
    h = x * 2.0
    h[:3].mul_(2.0)  # the change reaches h through the view: a replay could not follow it
    return h


def _inplace_on_a_viewed_value(x):
    h = x * 2.0
    first = h[:3]
    h.mul_(2.0)  # first (read below) sees the change
    return first.sum() + h


BREAKS = {
    "item": (_item, "item()"),
    "bool": (_control_flow, "bool()"),
    "tolist": (_tolist, "tolist()"),
    "numpy": (_numpy, "numpy()"),
    "print": (_printing, "printing"),
    "hook": (_hook_inside, "hook"),
    "nonzero": (_nonzero_outside_the_ops, "nonzero()"),
    "boolean mask": (lambda x: (x[x > 0] * 2.0 + 1.0).exp(), "boolean-mask indexing"),
    "masked_select": (lambda x: x.masked_select(x > 0) * 2.0, "boolean-mask indexing"),
    "equal": (lambda x: x * float(chainrule.equal(x, x.abs())), "equal()"),
    "inplace on a view": (_inplace_on_a_view, "in-place change (mul_)"),
    "inplace on a viewed value": (_inplace_on_a_viewed_value, "in-place change (mul_)"),
}


def _inputs(call):
    rng = np.random.default_rng(call)
    return chainrule.tensor(rng.standard_normal(6) * (1 if call % 2 else -1), requires_grad=True)


def _run(fn, calls=5):
    """Outputs and input gradients of ``calls`` calls (inputs differ from call to call)."""
    chainrule.manual_seed(0)
    random.seed(0)
    results = []
    for call in range(calls):
        x = _inputs(call)
        out = fn(x)
        out.sum().backward()
        results.append((out.detach().numpy().tobytes(), x.grad.numpy().tobytes()))
    return results


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_a_graph_break_runs_eagerly_with_one_warning(name, capsys):
    fn, reason = BREAKS[name]
    compiled = chainrule.compile(fn)
    chainrule.compiler.reset()
    chainrule.compiler.reset()  # warnings are once per reason and process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = _run(compiled)
    expected = _run(fn)
    assert got == expected
    ours = [w for w in caught if "chainrule.compile" in str(w.message)]
    messages = [str(w.message) for w in ours]
    assert len(messages) == 1 and "graph break" in messages[0] and reason in messages[0]
    # Attributed to the caller's line (in _run), not to chainrule's own code.
    source, first = inspect.getsourcelines(_run)
    call_line = first + next(i for i, line in enumerate(source) if "out = fn(x)" in line)
    assert (ours[0].filename, ours[0].lineno) == (__file__, call_line)
    assert compiled.region.last_plan is None


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_fullgraph_raises_at_a_graph_break(name, capsys):
    fn, reason = BREAKS[name]
    with pytest.raises(Unsupported, match="fullgraph"):
        chainrule.compile(fn, fullgraph=True)(_inputs(0))


@pytest.mark.parametrize("fn", [_random_outside_an_op])
def test_a_tensor_made_outside_the_ops_that_changes_is_caught_by_the_second_trace(fn):
    compiled = chainrule.compile(fn)
    chainrule.compiler.reset()  # warnings are once per reason and process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = _run(compiled, calls=8)
    assert got == _run(fn, calls=8)
    assert any("keep differing" in str(w.message) for w in caught)
    assert compiled.region.last_plan is None


def test_an_inplace_change_of_an_input_runs_eagerly_and_changes_it():
    def bump(x):
        x.add_(1.0)
        return x * 2.0

    compiled = chainrule.compile(bump)
    chainrule.compiler.reset()  # warnings are once per reason and process
    for fn in (bump, compiled):
        x = chainrule.zeros(3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outs = [fn(x).numpy().copy() for _ in range(4)]
        assert [o.tolist() for o in outs] == [[2.0] * 3, [4.0] * 3, [6.0] * 3, [8.0] * 3]
        assert x.tolist() == [4.0, 4.0, 4.0]
    assert any("in-place change (add_) of an input" in str(w.message) for w in caught)


def test_python_state_that_changes_every_call_keeps_the_region_eager():
    class Counter(chainrule.nn.Module):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            return x * float(self.calls)

    module = Counter()
    compiled = chainrule.compile(module)
    chainrule.compiler.reset()  # warnings are once per reason and process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outs = [compiled(chainrule.ones(2)).tolist() for _ in range(7)]
    assert outs == [[float(n)] * 2 for n in range(1, 8)]
    assert any("keep differing" in str(w.message) for w in caught)


def test_a_module_with_hooks_runs_eagerly():
    model = chainrule.nn.Linear(3, 2)
    seen = []
    model.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    compiled = chainrule.compile(model)
    chainrule.compiler.reset()  # warnings are once per reason and process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(4):
            compiled(chainrule.ones(5, 3))
    assert len(seen) == 4
    assert any("hooks" in str(w.message) for w in caught)


def test_a_tensor_on_a_device_runs_eagerly_there():
    from device_standin import stand_in  # the stand-in GPU: an ndarray subclass, as a CuPy array is not

    def fn(x):
        return (x * 2.0).tanh()

    compiled = chainrule.compile(fn)
    chainrule.compiler.reset()  # warnings are once per reason and process
    with stand_in(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = chainrule.tensor([0.5, -1.0], requires_grad=True).to("cuda")
        for _ in range(3):
            out = compiled(x)
            assert out.device.type == "cuda"
            assert out.cpu().tolist() == fn(x).cpu().tolist()
    assert any("device other than the CPU" in str(w.message) for w in caught)
    assert compiled.region.last_plan is None


class _BasicBlock(chainrule.nn.Module):
    """torchvision's ResNet block: ReLU(inplace=True), and ``out += identity``."""

    def __init__(self, channels):
        super().__init__()
        nn = chainrule.nn
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class _Body(chainrule.nn.Module):
    def __init__(self, body):
        super().__init__()
        self.linear = chainrule.nn.Linear(4, 4)
        self.body = body

    def forward(self, x):
        return self.body(self.linear(x), x)


INPLACE = {
    "resnet block": (lambda: _BasicBlock(3), (2, 3, 5, 5)),
    "relu_": (lambda: _Body(lambda h, x: h.relu_()), (3, 4)),
    "mul_ then add_": (lambda: _Body(lambda h, x: h.mul_(2.0).add_(1.0)), (3, 4)),
    "x += y": (lambda: _Body(lambda h, x: h.__iadd__(h * 3.0)), (3, 4)),
    "clamp_ and masked_fill_": (lambda: _Body(lambda h, x: h.clamp_(-0.5, 0.5).masked_fill_(x > 1.0, 0.0)), (3, 4)),
    "tanh_ read again": (lambda: _Body(lambda h, x: h.tanh_() * h), (3, 4)),
    "dropout inplace": (lambda: _Body(lambda h, x: chainrule.nn.functional.dropout(h, 0.5, inplace=True)), (3, 4)),
}


def _steps(model, fn, shape, calls=5):
    results = []
    for call in range(calls):
        chainrule.manual_seed(call)
        x = chainrule.randn(*shape)
        model.zero_grad()
        out = fn(x)
        out.square().sum().backward()
        results.append([out.detach().numpy().tobytes()] + [p.grad.numpy().tobytes() for p in model.parameters()])
    return results


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_changes_of_values_computed_in_the_region_are_planned(name):
    """In-place ops (PyTorch's inplace=True modules, ``+=``) on a value computed in the region
    are captured as the op on the old value: no graph break, eager's numbers."""
    make, shape = INPLACE[name]
    chainrule.manual_seed(0)
    eager, traced = make(), make()
    traced.load_state_dict(eager.state_dict())
    compiled = chainrule.compile(traced, fullgraph=True)
    assert _steps(traced, compiled, shape) == _steps(eager, eager, shape)
    assert compiled._region.last_plan is not None


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_changes_are_planned_for_inference_too(name):
    """Under no_grad the change is not recorded (eager writes it with an in-place kernel);
    a trace still takes it as the op, and replays give eager's outputs."""
    make, shape = INPLACE[name]
    chainrule.manual_seed(0)
    eager, traced = make().eval(), make().eval()
    traced.load_state_dict(eager.state_dict())
    compiled = chainrule.compile(traced, fullgraph=True)
    outputs = []
    for fn in (eager, compiled):
        with chainrule.no_grad():
            for call in range(4):
                chainrule.manual_seed(call)  # the inputs, and the masks of a dropout that stays on
                outputs.append(fn(chainrule.randn(*shape)).numpy().tobytes())
    assert outputs[:4] == outputs[4:]
    assert compiled._region.last_plan is not None


def test_random_factories_are_drawn_again_at_each_replay():
    """randn, rand_like, randint, bernoulli, normal, randperm are ops: a plan draws them from
    the generator's stream at each call, as eager does (a VAE's reparameterisation)."""
    compiled = chainrule.compile(_random_factories, fullgraph=True)
    assert _run(compiled, calls=6) == _run(_random_factories, calls=6)
    assert compiled.region.last_plan is not None


def test_a_value_dependent_shape_never_replays_a_first_calls_shape():
    """The first two calls select as many elements; a plan built from them would have
    written a later, smaller selection into their buffer (broadcast: a wrong sum) - the
    boolean mask is a graph break, and every call gives eager's number."""
    def select(x):
        return (x[x > 0] * 2.0 + 1.0).exp().sum()

    compiled = chainrule.compile(select)
    chainrule.compiler.reset()
    calls = [[1.0, 2.0, -1.0, 3.0, -2.0], [1.5, 3.0, -1.5, 4.5, -3.0], [1.0, -2.0, -1.0, -3.0, -2.0],
             [-1.0, -2.0, -1.0, -3.0, -2.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for values in calls:
            x = chainrule.tensor(values)
            assert compiled(x).item() == select(x).item()
    assert compiled.region.last_plan is None


def test_value_tests_are_asked_again_at_each_replay():
    """isnan/isinf/isfinite, ``~`` and nan_to_num are ops: the first two calls have no NaN or
    inf, later ones do, and the replays replace and mask them as eager does."""
    def clean(x):
        kept = x * (~chainrule.isfinite(x)).logical_not().float() * (~(~chainrule.ones(3, dtype=chainrule.int64))).float()
        kept = kept * chainrule.isfinite(x).all().float() + kept * chainrule.isnan(x).any(0, keepdim=True).float()
        return chainrule.nan_to_num(x, nan=0.5, posinf=9.0) + chainrule.where(chainrule.isnan(kept), 0.0, kept)

    compiled = chainrule.compile(clean, fullgraph=True)
    calls = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [float("nan"), 1.0, float("inf")], [float("-inf"), 2.0, 7.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (inf * 0 in eager and in the replay alike)
        for values in calls:
            x = chainrule.tensor(values)
            assert compiled(x).numpy().tobytes() == clean(x).numpy().tobytes()
    assert compiled.region.last_plan is not None


def test_review_cases_give_eagers_results():
    """An in-place op that casts (float64 into float32; a float into an int, which eager
    refuses), an in-place change of a value a .detach() alias reads, multinomial draws and
    one_hot's checks: each compiled call gives eager's result or eager's error."""
    def cast(a, b):
        x = a * 2
        x += b
        return x

    compiled = chainrule.compile(cast)
    a, b = chainrule.ones(3), chainrule.ones(3, dtype=chainrule.float64)
    assert [compiled(a, b).dtype for _ in range(3)] == [chainrule.float32] * 3

    def to_int(a):
        x = a * 2
        x += 1.5
        return x

    compiled = chainrule.compile(to_int)
    for _ in range(3):
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            compiled(chainrule.tensor([1, 2, 3]))

    def aliased(a):
        x = a * 2
        seen = x.detach()
        x.relu_()
        return seen * 1

    compiled = chainrule.compile(aliased)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for values in ([1.0, 2.0], [3.0, 5.0], [-3.0, 4.0]):
            assert compiled(chainrule.tensor(values)).tolist() == aliased(chainrule.tensor(values)).tolist()

    draw = chainrule.compile(lambda p: chainrule.multinomial(p, 1))
    assert [draw(chainrule.tensor(v)).tolist() for v in ([0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0])] == \
        [[1], [1], [0]]

    encode = chainrule.compile(lambda x: chainrule.nn.functional.one_hot(x * 1, 4))
    for _ in range(2):
        encode(chainrule.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        encode(chainrule.tensor([0, -1, 2]))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        encode(chainrule.tensor([0, 5, 2]))
