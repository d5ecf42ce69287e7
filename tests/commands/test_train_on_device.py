"""The digits MLP and CNN trained on the stand-in device (``tests/device_standin.py``): 20
steps give the CPU's logits, loss, gradients, parameters and optimizer state bit for bit,
all on the device; and ``chainrule train --device cuda`` runs there end to end."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import chainrule
from chainrule.commands import train as train_command
from chainrule.data import datasets
from chainrule.models import build_model
from device_parity import assert_on_device, assert_same, on_device
from device_standin import no_gpu, stand_in

STEPS = 20


def _steps(model, optimizer, x, y, where):
    """20 training steps on ``where``; what each step computed, for comparison."""
    rng = np.random.default_rng(0)
    trace = []
    loss_fn = chainrule.nn.CrossEntropyLoss()
    for _ in range(STEPS):
        rows = rng.choice(len(y), 32, replace=False)
        xb, yb = x[rows].to(where), y[rows].to(where)
        optimizer.zero_grad()
        logits = model(xb)
        loss = loss_fn(logits, yb)
        loss.backward()
        trace.append((logits.detach(), loss.detach(), [p.grad.detach() for p in model.parameters()]))
        optimizer.step()
    return trace


@pytest.mark.parametrize("name,optimizer", [("mlp", "Adam"), ("cnn", "SGD"), ("cnn", "AdamW")])
def test_twenty_steps_equal_the_cpus(name, optimizer):
    x, y = datasets.digits()
    chainrule.manual_seed(0)
    cpu_model = build_model(name, (1, 8, 8), 10)
    device_model = copy.deepcopy(cpu_model)
    options = {"lr": 0.05, "momentum": 0.9} if optimizer == "SGD" else {"lr": 0.01}
    cpu_optimizer = getattr(chainrule.optim, optimizer)(cpu_model.parameters(), **options)
    device_optimizer = getattr(chainrule.optim, optimizer)(device_model.parameters(), **options)
    cpu_trace = _steps(cpu_model, cpu_optimizer, x, y, "cpu")
    with on_device():
        device_model.cuda()  # after the optimizer was made: it follows its parameters
        device_trace = _steps(device_model, device_optimizer, x, y, "cuda")
        for step, (ours, theirs) in enumerate(zip(device_trace, cpu_trace)):
            assert_same(ours[0], theirs[0], f"logits at step {step}")
            assert_same(ours[1], theirs[1], f"loss at step {step}")
            for index, (d, c) in enumerate(zip(ours[2], theirs[2])):
                assert_same(d, c, f"gradient {index} at step {step}")
        for (key, d), c in zip(device_model.state_dict().items(), cpu_model.state_dict().values()):
            assert_same(d, c, key)
        device_state = device_optimizer.state_dict()["state"]
        for key, values in cpu_optimizer.state_dict()["state"].items():
            for entry, value in values.items():
                if entry != "step":
                    assert_same(device_state[key][entry], value, f"optimizer state {key} {entry}")


def test_chainrule_train_device_cuda(tmp_path):
    config = {**train_command.DEFAULTS, "epochs": 2, "hidden": [32], "seed": 3, "lr": 0.01}
    cpu = train_command.train(config, tmp_path / "cpu", log=lambda *_: None, progress=False)
    with stand_in():  # not the default device: the model is built on the CPU, then moved
        gpu = train_command.train(config, tmp_path / "gpu", log=lambda *_: None, progress=False, device="cuda")
        for name, tensor in gpu.model.state_dict().items():
            assert_on_device(tensor, name)
        for (key, d), c in zip(gpu.model.state_dict().items(), cpu.model.state_dict().values()):
            assert_same(d, c, key)
    for ours, theirs in zip(gpu.history, cpu.history):
        assert ours["test_accuracy"] == theirs["test_accuracy"]
        assert ours["test_loss"] == theirs["test_loss"]
        assert ours["train_accuracy"] == theirs["train_accuracy"]
        np.testing.assert_allclose(ours["train_loss"], theirs["train_loss"], rtol=1e-6)
    saved = chainrule.load(tmp_path / "gpu" / "model.safetensors")  # written through the host
    for key, tensor in saved["model"].items():
        np.testing.assert_array_equal(tensor.numpy(), cpu.model.state_dict()[key].numpy())


def test_resuming_on_the_device_moves_the_optimizer_state_there(tmp_path):
    config = {**train_command.DEFAULTS, "epochs": 1, "hidden": [16], "lr": 0.01, "scheduler": "none"}
    train_command.train(config, tmp_path, log=lambda *_: None, progress=False)
    checkpoint = train_command.load_checkpoint(tmp_path / "model.safetensors")
    with stand_in():
        result = train_command.train({**config, "epochs": 2}, tmp_path, checkpoint=checkpoint,
                                     log=lambda *_: None, progress=False, device="cuda")
        for values in result.optimizer.state.values():
            assert_on_device(values["exp_avg"], "exp_avg")
            assert values["step"].device.type == "cpu"


def test_compile_on_a_device_is_a_usage_error(tmp_path):
    config = {**train_command.DEFAULTS, "epochs": 1, "hidden": [16]}
    with stand_in(), pytest.raises(train_command.UsageError, match="--compile runs on the CPU"):
        train_command.train(config, tmp_path, log=lambda *_: None, progress=False, device="cuda", compile=True)
    assert not any(tmp_path.iterdir())


def test_a_missing_gpu_is_a_usage_error():
    with no_gpu():
        with pytest.raises(train_command.UsageError, match="--device cuda: CUDA is not available"):
            train_command.pick_device("cuda")
        assert train_command.pick_device("auto") == chainrule.device("cpu")
    with stand_in():
        assert train_command.pick_device("auto") == chainrule.device("cuda", 0)
