"""chainrule.optim.lr_scheduler against torch.optim.lr_scheduler: the same learning rates
(and momenta), exactly, step for step."""
from __future__ import annotations

import math
import warnings

import pytest
import torch

import chainrule

LRS = (0.1, 0.03)


def _optimizer(lib, kind="SGD"):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0], requires_grad=True)
    groups = [{"params": [a], "lr": LRS[0]}, {"params": [b], "lr": LRS[1]}]
    if kind == "SGD":
        return lib.optim.SGD(groups, lr=0.5, momentum=0.9)
    return getattr(lib.optim, kind)(groups, lr=0.5)


def _warmup_then_cosine(lib, opt):
    s = lib.optim.lr_scheduler
    return s.SequentialLR(opt, [s.LinearLR(opt, start_factor=0.1, total_iters=5),
                                s.CosineAnnealingLR(opt, T_max=20, eta_min=1e-3)], milestones=[5])


def _chained(lib, opt):
    s = lib.optim.lr_scheduler
    return s.ChainedScheduler([s.ConstantLR(opt, factor=0.5, total_iters=4), s.ExponentialLR(opt, gamma=0.97)])


def _triple_sequence(lib, opt):
    s = lib.optim.lr_scheduler
    return s.SequentialLR(opt, [s.ConstantLR(opt, factor=0.2, total_iters=3), s.StepLR(opt, 4, gamma=0.5),
                                s.MultiplicativeLR(opt, lambda e: 0.95)], milestones=[6, 20])


SCHEDULES = {
    "StepLR": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.3)),
    "MultiStepLR": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.MultiStepLR(opt, [3, 10, 10, 25], gamma=0.5)),
    "ExponentialLR": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.93)),
    "CosineAnnealingLR": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=17)),
    "CosineAnnealingLR eta_min": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingLR(
        opt, T_max=10, eta_min=0.01)),
    "LambdaLR": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 / (1 + 0.1 * e))),
    "LambdaLR per group": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(
        opt, [lambda e: 0.9 ** e, lambda e: min(1.0, (e + 1) / 10)])),
    "MultiplicativeLR": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.MultiplicativeLR(opt, lambda e: 0.97)),
    "LinearLR": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=12)),
    "LinearLR decay": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.LinearLR(
        opt, start_factor=1.0, end_factor=0.1, total_iters=30)),
    "ConstantLR": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.ConstantLR(opt, factor=0.4, total_iters=6)),
    "PolynomialLR": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.PolynomialLR(opt, total_iters=25, power=2.0)),
    "SequentialLR": ("SGD", _warmup_then_cosine),
    "SequentialLR three": ("SGD", _triple_sequence),
    "ChainedScheduler": ("SGD", _chained),
    "OneCycleLR cos": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=[0.5, 0.2], total_steps=61)),
    "OneCycleLR linear": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=1.0, epochs=6, steps_per_epoch=11, anneal_strategy="linear", pct_start=0.25)),
    "OneCycleLR three_phase": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.4, total_steps=61, three_phase=True, div_factor=10.0, final_div_factor=100.0)),
    "OneCycleLR Adam betas": ("Adam", lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.01, total_steps=70, base_momentum=0.8, max_momentum=0.9)),
    "OneCycleLR no momentum": ("Adagrad", lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.3, total_steps=65, cycle_momentum=False)),
    "CyclicLR triangular": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(
        opt, base_lr=0.01, max_lr=0.1, step_size_up=7)),
    "CyclicLR triangular2": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(
        opt, base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=5, step_size_down=9, mode="triangular2")),
    "CyclicLR exp_range Adam": ("Adam", lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(
        opt, base_lr=0.001, max_lr=0.01, step_size_up=6, mode="exp_range", gamma=0.97)),
    "CosineAnnealingWarmRestarts": ("SGD", lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        opt, T_0=5, T_mult=2, eta_min=0.001)),
}


def _trace(lib, kind, make, steps):
    opt = _optimizer(lib, kind)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched = make(lib, opt)
        rows = [(sched.get_last_lr(), _momenta(opt))]
        for _ in range(steps):
            opt.step()
            sched.step()
            rows.append((list(sched.get_last_lr()), _momenta(opt), [g["lr"] for g in opt.param_groups]))
    return rows, [str(w.message) for w in caught], opt


def _momenta(opt):
    return [(g.get("momentum"), g.get("betas")) for g in opt.param_groups]


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch_exactly(name):
    kind, make = SCHEDULES[name]
    steps = 60
    ours, our_warnings, opt = _trace(chainrule, kind, make, steps)
    theirs, their_warnings, topt = _trace(torch, kind, make, steps)
    assert len(ours) == steps + 1
    for t, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"step {t}: {a} != {b}"
    assert our_warnings == their_warnings
    extra = lambda group: {k: v for k, v in group.items() if k != "params"}
    assert [extra(g) for g in opt.param_groups] == [extra(g) for g in topt.param_groups]


def test_cosine_is_the_recursive_form():
    """The recursive update drifts from the closed form in the last bits; torch's does too,
    and we follow torch, not the formula."""
    ours, _, _ = _trace(chainrule, "SGD", SCHEDULES["CosineAnnealingLR"][1], 100)
    closed = [[lr * (1 + math.cos(math.pi * t / 17)) / 2 for lr in LRS] for t in range(101)]
    assert all(abs(a - b) < 1e-12 for row, c in zip(ours, closed) for a, b in zip(row[0], c))
    assert any(row[0] != c for row, c in zip(ours, closed))


def test_scheduler_bookkeeping():
    opt = _optimizer(chainrule)
    sched = chainrule.optim.lr_scheduler.StepLR(opt, step_size=2)
    assert sched.last_epoch == 0 and sched.base_lrs == list(LRS)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)
    assert sched.get_last_lr() == list(LRS)
    for _ in range(3):
        opt.step()
        sched.step()
    assert sched.last_epoch == 3
    assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups] == [LRS[0] * 0.1, LRS[1] * 0.1]
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3 and state["step_size"] == 2


def test_stepping_before_the_optimizer_warns_like_torch():
    messages = []
    for lib in (chainrule, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        with pytest.warns(UserWarning) as caught:
            sched.step()
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1] and "before `optimizer.step()`" in messages[0][0]


def test_get_lr_outside_step_warns():
    opt = _optimizer(chainrule)
    sched = chainrule.optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_step_with_epoch_uses_the_closed_form():
    rows = []
    for lib in (chainrule, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        opt.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            sched.step(7)
        rows.append(sched.get_last_lr())
    assert rows[0] == rows[1] == [LRS[0] * 0.25, LRS[1] * 0.25]


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "OneCycleLR Adam betas", "SequentialLR",
                                  "LambdaLR", "CyclicLR triangular2", "CosineAnnealingWarmRestarts"])
def test_state_dict_round_trip_resumes_exactly(name):
    kind, make = SCHEDULES[name]
    straight, _, _ = _trace(chainrule, kind, make, 40)

    opt = _optimizer(chainrule, kind)
    sched = make(chainrule, opt)
    for _ in range(15):
        opt.step()
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()

    opt2 = _optimizer(chainrule, kind)
    sched2 = make(chainrule, opt2)
    sched2.load_state_dict(sched_state)
    opt2.load_state_dict(opt_state)  # after the scheduler, as torch's docs say
    rows = []
    for _ in range(25):
        opt2.step()
        sched2.step()
        rows.append((list(sched2.get_last_lr()), _momenta(opt2), [g["lr"] for g in opt2.param_groups]))
    assert rows == straight[16:]


def test_resume_with_last_epoch_needs_initial_lr():
    opt = _optimizer(chainrule)
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        chainrule.optim.lr_scheduler.StepLR(opt, step_size=2, last_epoch=4)


def test_lr_changes_reach_the_update():
    """The optimizer reads the scheduled lr at each step: a StepLR run agrees with torch on
    the parameters, not only on the lr values."""
    results = []
    for lib in (chainrule, torch):
        p = lib.tensor([1.0, -1.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=30)
        for t in range(30):
            p.grad = p.detach() * 2 + t * 0.01
            opt.step()
            sched.step()
        results.append(p.detach().tolist())
    assert results[0] == pytest.approx(results[1], rel=1e-12, abs=1e-12)


# -- ReduceLROnPlateau with scripted metrics -----------------------------------------------------
METRICS = [1.0, 0.9, 0.95, 0.9, 0.91, 0.9, 0.89995, 0.85, 0.86, 0.86, 0.86, 0.86, 0.87, 0.7, 0.7,
           0.7001, 0.6999, 0.71, 0.72, 0.73, 0.74, 0.75, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
           0.49, 0.48] + [0.6] * 14

PLATEAU = {
    "default": {},
    "patience": {"patience": 2},
    "abs": {"patience": 1, "threshold": 0.01, "threshold_mode": "abs"},
    "max rel": {"mode": "max", "patience": 2, "factor": 0.5},
    "max abs": {"mode": "max", "threshold_mode": "abs", "threshold": 0.05, "patience": 0},
    "cooldown": {"patience": 1, "cooldown": 3, "factor": 0.5},
    "min_lr": {"patience": 0, "factor": 0.2, "min_lr": 0.005},
    "min_lr list": {"patience": 1, "factor": 0.3, "min_lr": [0.02, 0.001]},
    "eps": {"patience": 0, "factor": 0.9, "eps": 0.005},  # blocks group 1 once lr < 0.05, group 2 always
}


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_on_plateau_matches_torch(name):
    traces = []
    for lib in (chainrule, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **PLATEAU[name])
        rows = [sched.get_last_lr()]
        for metric in METRICS:
            opt.step()
            sched.step(lib.tensor(metric) if len(rows) % 2 else metric)
            rows.append((list(sched.get_last_lr()), sched.best, sched.num_bad_epochs,
                         sched.cooldown_counter, sched.last_epoch))
        traces.append(rows)
    assert traces[0] == traces[1]
    assert traces[0][-1][0] != list(LRS)  # the script does trigger reductions


def test_reduce_on_plateau_state_dict():
    opt = _optimizer(chainrule)
    sched = chainrule.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, mode="max")
    for metric in METRICS[:10]:
        sched.step(metric)
    state = sched.state_dict()
    other = chainrule.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(chainrule))
    other.load_state_dict(state)
    assert other.mode == "max" and other.best == sched.best and other.num_bad_epochs == sched.num_bad_epochs
    assert other._is_better(sched.best * 2, sched.best)


SCHEDULER_ERRORS = {
    "not an optimizer": lambda lib, opt: lib.optim.lr_scheduler.StepLR(object(), 3),
    "plateau factor": lambda lib, opt: lib.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0),
    "plateau mode": lambda lib, opt: lib.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="up"),
    "plateau threshold_mode": lambda lib, opt: lib.optim.lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="x"),
    "plateau min_lr": lambda lib, opt: lib.optim.lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1]),
    "onecycle steps": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1),
    "onecycle total": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=0),
    "onecycle pct": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=9, pct_start=1.5),
    "onecycle anneal": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.1, total_steps=9, anneal_strategy="exp"),
    "onecycle max_lr list": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=[0.1], total_steps=9),
    "lambda count": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0]),
    "constant factor": lambda lib, opt: lib.optim.lr_scheduler.ConstantLR(opt, factor=1.5),
    "linear start": lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, start_factor=0),
    "linear end": lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, end_factor=2),
    "warm restarts T_0": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0),
    "sequential milestones": lambda lib, opt: lib.optim.lr_scheduler.SequentialLR(
        opt, [lib.optim.lr_scheduler.StepLR(opt, 2)], milestones=[3]),
    "cyclic mode": lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(opt, 0.1, 1.0, mode="saw"),
}


@pytest.mark.parametrize("case", list(SCHEDULER_ERRORS))
def test_scheduler_errors_match_torch(case):
    with pytest.raises(Exception) as theirs:
        SCHEDULER_ERRORS[case](torch, _optimizer(torch))
    with pytest.raises(Exception) as ours:
        SCHEDULER_ERRORS[case](chainrule, _optimizer(chainrule))
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_onecycle_past_total_steps_raises_like_torch():
    errors = []
    for lib in (chainrule, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        with pytest.raises(ValueError) as caught:
            for _ in range(4):
                opt.step()
                sched.step()
        errors.append(str(caught.value))
    assert errors[0] == errors[1] == "Tried to step 4 times. The specified number of total steps is 3"
