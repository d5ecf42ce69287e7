"""Compiled and eager training give bit-identical numbers: 100 steps of the digits MLP and
CNN (``chainrule.models``), float32 and float64, Adam and SGD with momentum; the losses, every
gradient at every step and the final weights (buffers included) are compared exactly."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule
from chainrule.data import datasets
from chainrule.models import build_model

STEPS = 100
BATCH = 32


def _batches(dtype):
    images, labels = datasets.digits()
    x = images.numpy().astype(dtype)[:BATCH * 10]
    y = labels.numpy()[:BATCH * 10]
    return [(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, len(x), BATCH)]


def _train(kind, dtype, optimizer, compiled):
    chainrule.manual_seed(0)
    options = {"dropout": 0.2} if kind == "mlp" else {"channels": (8, 16)}
    model = build_model(kind, (1, 8, 8), 10, **options)
    if dtype == "float64":
        model = model.double()
    net = chainrule.compile(model) if compiled else model
    if optimizer == "adam":
        opt = chainrule.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = chainrule.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    batches = _batches(dtype)
    chainrule.manual_seed(1)  # dropout's masks: the same stream in both runs
    losses, grads, nodes = [], [], set()
    for step in range(STEPS):
        x, y = batches[step % len(batches)]
        opt.zero_grad()
        out = net(chainrule.from_numpy(x))
        nodes.add(out.grad_fn.name())
        loss = chainrule.nn.functional.cross_entropy(out, chainrule.from_numpy(y))
        loss.backward()
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
        opt.step()
        losses.append(loss.item())
    state = [v.numpy().copy() for v in model.state_dict().values()]
    return losses, grads, state, nodes


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_compiled_training_is_bit_identical_to_eager(kind, dtype, optimizer):
    eager = _train(kind, dtype, optimizer, compiled=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no graph break: the plan runs
        compiled = _train(kind, dtype, optimizer, compiled=True)
    assert "CompiledFunctionBackward" in compiled[3]
    assert compiled[0] == eager[0]
    for step, (a, b) in enumerate(zip(compiled[1], eager[1])):
        for ga, gb in zip(a, b):
            assert ga.dtype == gb.dtype and ga.tobytes() == gb.tobytes(), f"gradient at step {step}"
    for wa, wb in zip(compiled[2], eager[2]):
        assert wa.dtype == wb.dtype and wa.tobytes() == wb.tobytes()


def test_the_tiny_ops_chain_compiled_as_a_function_is_bit_identical():
    values = np.random.default_rng(0).random(4).astype(np.float32)

    def chain(x, w):
        y = x
        for _ in range(40):
            y = (((y * w + x).tanh()) - 0.5).sigmoid()
        return y.sum()

    compiled = chainrule.compile(chain)
    for _ in range(4):
        results = []
        for fn in (chain, compiled):
            x = chainrule.tensor(values, requires_grad=True)
            w = chainrule.tensor(values[::-1].copy(), requires_grad=True)
            loss = fn(x, w)
            loss.backward()
            results.append((loss.item(), x.grad.numpy().tobytes(), w.grad.numpy().tobytes()))
        assert results[0] == results[1]
    assert compiled.region.last_plan is not None


def test_eval_mode_replays_give_eagers_outputs_and_running_statistics():
    chainrule.manual_seed(0)
    twins = [build_model("cnn", (1, 8, 8), 10, channels=(4, 8)) for _ in range(2)]
    twins[1].load_state_dict(twins[0].state_dict())
    compiled = chainrule.compile(twins[1])
    batches = _batches("float32")
    for model, net in ((twins[0], twins[0]), (twins[1], compiled)):
        outputs = []
        for x, _ in batches[:4]:
            model.train()
            net(chainrule.from_numpy(x))  # running statistics move
            model.eval()
            with chainrule.no_grad():
                outputs.append(net(chainrule.from_numpy(x)).numpy().copy())
        model.outputs = outputs
    for a, b in zip(twins[0].outputs, twins[1].outputs):
        assert a.tobytes() == b.tobytes()
    region = compiled.__dict__["_region"]
    assert sum(entry.plan is not None for entry in region.entries.values()) == 2  # train and eval
    for a, b in zip(twins[0].state_dict().values(), twins[1].state_dict().values()):
        assert a.numpy().tobytes() == b.numpy().tobytes()


class _Ranked(chainrule.nn.Module):
    """sort, topk and their indices: an order found on the values at each call."""

    def __init__(self):
        super().__init__()
        self.linear = chainrule.nn.Linear(6, 6)

    def forward(self, x):
        h = self.linear(x)
        values, order = h.sort(-1, descending=True)
        return h.topk(3).values + values[..., :3] + order[..., :3].float()


class _PaddedEncoder(chainrule.nn.Module):
    """A Transformer encoder with attention dropout and a key padding mask given per call."""

    def __init__(self):
        super().__init__()
        layer = chainrule.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True)
        self.encoder = chainrule.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def forward(self, x, padding):
        return self.encoder(x, src_key_padding_mask=padding)


class _Picked(chainrule.nn.Module):
    """Indices found on the values and used by other ops: index_select, one_hot, searchsorted,
    count_nonzero, kthvalue."""

    def __init__(self):
        super().__init__()
        self.linear = chainrule.nn.Linear(5, 5)

    def forward(self, x):
        h = self.linear(x)
        picked = h.index_select(1, h[0].argsort()) * chainrule.nn.functional.one_hot(h.argmax(1), 5)
        bins = chainrule.searchsorted(chainrule.tensor([-1.0, 0.0, 1.0]), h.detach()).float()
        counts = chainrule.count_nonzero(h > 0, dim=1).float()
        return picked + bins + counts[:, None] + h.kthvalue(2, dim=1).values[:, None]


class _Losses(chainrule.nn.Module):
    """Losses whose formulas pick a branch per element: masks found on the values."""

    def __init__(self):
        super().__init__()
        self.linear = chainrule.nn.Linear(3, 3)

    def forward(self, x, target):
        F = chainrule.nn.functional
        out = self.linear(x)
        return (F.huber_loss(out, target * 3, delta=0.5) + F.smooth_l1_loss(out, target, beta=0.3)
                + F.kl_div(out.log_softmax(-1), target, reduction="batchmean")).reshape(1)


def _padding(call):
    mask = chainrule.zeros(2, 5, dtype=chainrule.bool)
    mask[:, 2 + call % 3:] = True  # other positions padded at each call
    return mask


_nn = chainrule.nn
# Modules whose ops take values found at each call (orders, argmax windows, masks, dropout of
# attention weights) or constants that are arrays inside named tuples (adaptive average
# pooling's averaging matrices): each gets a plan, and its replays give eager's numbers.
PLANNED = {
    "adaptive avg pool": (lambda: _nn.Sequential(_nn.Conv2d(3, 4, 3), _nn.BatchNorm2d(4), _nn.ReLU(),
                                                 _nn.AdaptiveAvgPool2d(1), _nn.Flatten()),
                          lambda rng, call: (chainrule.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32)),)),
    "adaptive max pool": (lambda: _nn.Sequential(_nn.Conv2d(1, 2, 3), _nn.AdaptiveMaxPool2d(2)),
                          lambda rng, call: (chainrule.tensor(rng.standard_normal((2, 1, 7, 7)).astype(np.float32)),)),
    "sort and topk": (_Ranked, lambda rng, call: (chainrule.tensor(rng.standard_normal((4, 6)).astype(np.float32)),)),
    "huber, smooth l1 and kl_div with zeros": (
        lambda: _Losses(),
        lambda rng, call: (chainrule.tensor(rng.standard_normal((4, 3)).astype(np.float32)),
                           chainrule.tensor(np.where(rng.random((4, 3)) > 0.5, rng.random((4, 3)), 0.0).astype(np.float32)))),
    "channel dropout and instance norm statistics": (
        lambda: _nn.Sequential(_nn.Conv1d(2, 4, 3), _nn.Dropout1d(0.4), _nn.InstanceNorm1d(4, track_running_stats=True),
                               _nn.Unflatten(2, (1, 5)), _nn.Dropout2d(0.3)),
        lambda rng, call: (chainrule.tensor(rng.standard_normal((3, 2, 7)).astype(np.float32)),)),
    "picked indices": (_Picked, lambda rng, call: (chainrule.tensor(rng.standard_normal((4, 5)).astype(np.float32)),)),
    "encoder with padding": (_PaddedEncoder,
                             lambda rng, call: (chainrule.tensor(rng.standard_normal((2, 5, 8)).astype(np.float32)),
                                                _padding(call))),
}


def _calls(model, fn, inputs, calls=6):
    results = []
    for call in range(calls):
        chainrule.manual_seed(call)
        model.zero_grad()
        out = fn(*inputs(np.random.default_rng(call), call))
        out.square().sum().backward()
        results.append([out.detach().numpy().tobytes()] + [p.grad.numpy().tobytes() for p in model.parameters()]
                       + [b.numpy().tobytes() for b in model.buffers()])  # (running statistics too)
    return results


@pytest.mark.parametrize("name", sorted(PLANNED))
def test_values_found_at_each_call_are_part_of_the_plan(name):
    make, inputs = PLANNED[name]
    chainrule.manual_seed(0)
    eager, traced = make(), make()
    traced.load_state_dict(eager.state_dict())
    compiled = chainrule.compile(traced, fullgraph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "its calls keep differing": the calls are planned
        assert _calls(traced, compiled, inputs) == _calls(eager, eager, inputs)
    assert compiled._region.last_plan is not None
