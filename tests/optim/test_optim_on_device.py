"""Every optimizer (each option set of the parity table) and every scheduler on the stand-in
device (``tests/device_standin.py``): parameters and optimizer state stay on the device and
equal the CPU's bit for bit, step for step."""
from __future__ import annotations

import numpy as np
import pytest

import chainrule
import test_lr_scheduler as schedulers
import test_optimizers as optimizers
from device_parity import assert_on_device, assert_same, on_device

SHAPES = ((3, 4), (5,), ())
STEPS = 12


class Run:
    """Parameters on ``device`` and an optimizer over them, fed the gradient sequence of
    ``test_optimizers`` (a fixed non-quadratic loss plus noise, one parameter skipped every
    third step)."""

    def __init__(self, device, name, kwargs, groups=None):
        rng = np.random.default_rng(0)
        self.noise = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
        self.device = device
        self.params = [chainrule.tensor(rng.standard_normal(s), requires_grad=True, device=device) for s in SHAPES]
        cls = getattr(chainrule.optim, name)
        self.opt = cls(self.params if groups is None else groups(self.params), **kwargs)
        self.t = 0

    def step(self):
        for i, p in enumerate(self.params):
            if i == 2 and self.t % 3 == 2:
                p.grad = None
                continue
            x = np.asarray(p.detach().cpu()._data)
            p.grad = chainrule.tensor(0.5 * x + np.sin(3 * x) + self.noise[self.t][i], device=self.device)
        self.opt.step()
        self.t += 1


def _same_state(device_state, cpu_state):
    assert device_state.keys() == cpu_state.keys()
    for key, values in cpu_state.items():
        assert values.keys() == device_state[key].keys()
        for name, value in values.items():
            other = device_state[key][name]
            if name in ("step", "mu_product"):  # PyTorch keeps these counts on the CPU (not capturable)
                assert other.item() == value.item()
            elif isinstance(value, chainrule.Tensor):
                assert_same(other, value, f"state[{key}][{name}]")
            else:
                assert other == value


@pytest.mark.parametrize("case", optimizers.PARITY, ids=optimizers._ids)
def test_optimizers(case):
    name, kwargs = case
    kwargs = {"lr": optimizers.LR[name], **kwargs}
    cpu = Run("cpu", name, kwargs)
    with on_device():
        device = Run("cuda", name, kwargs)
        for _ in range(STEPS):
            cpu.step()
            device.step()
            for index, (d, c) in enumerate(zip(device.params, cpu.params)):
                assert_same(d.detach(), c.detach(), f"parameter {index} at step {cpu.t}")
        _same_state(device.opt.state_dict()["state"], cpu.opt.state_dict()["state"])


@pytest.mark.parametrize("name", list(schedulers.SCHEDULES))
def test_schedulers(name):
    kind, make = schedulers.SCHEDULES[name]

    def groups(params):
        return [{"params": params[:2], "lr": 0.1}, {"params": params[2:], "lr": 0.03}]

    def trace(run):
        scheduler = make(chainrule, run.opt)
        rows = []
        for _ in range(STEPS):
            run.step()
            scheduler.step()
            rows.append(scheduler.get_last_lr())
        return rows

    kwargs = {"lr": 0.5, "momentum": 0.9} if kind == "SGD" else {"lr": 0.5}
    cpu = Run("cpu", kind, kwargs, groups)
    cpu_rows = trace(cpu)
    with on_device():
        device = Run("cuda", kind, kwargs, groups)
        assert trace(device) == cpu_rows
        for index, (d, c) in enumerate(zip(device.params, cpu.params)):
            assert_same(d.detach(), c.detach(), f"parameter {index}")
            if d.grad is not None:
                assert_on_device(d.grad, f"gradient {index}")


def test_a_device_that_fuses_runs_the_adam_update_as_one_chain():
    """On a GPU ``adam_update`` is one ``cupy.fuse`` kernel; the stand-in runs it as written
    (CuPy's fallback on NumPy arrays): the parity above covers its values, this its use."""
    calls = []
    chain = chainrule.backend.FUSABLE["adam"]
    with on_device():
        device = chainrule.backend.registered_backend("cuda")
        compiled = device.fused.get("adam")
        device.fused["adam"] = lambda *args: calls.append(1) or chain(*args)
        try:
            run = Run("cuda", "AdamW", {"lr": 0.01})
            run.step()
            assert len(calls) == 3  # one kernel per parameter
            Run("cuda", "Adam", {"lr": 0.01, "amsgrad": True}).step()  # amsgrad: op by op
            assert len(calls) == 3
        finally:
            device.fused.pop("adam")
            if compiled is not None:
                device.fused["adam"] = compiled
