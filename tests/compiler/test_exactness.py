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
