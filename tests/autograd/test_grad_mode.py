"""Grad mode belongs to the thread, as in PyTorch: one thread inside no_grad (an optimizer's
step, an evaluation loop) leaves the others recording.  Anomaly mode and the default dtype
are process-wide in PyTorch, and so here."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn


def _in_thread(fn):
    result = {}

    def run():
        try:
            result["value"] = fn()
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            result["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_a_new_thread_records_even_when_the_caller_is_in_no_grad():
    with chainrule.no_grad():
        assert _in_thread(chainrule.is_grad_enabled) is True
        assert chainrule.is_grad_enabled() is False
    with torch.no_grad():
        assert _in_thread(torch.is_grad_enabled) is True


def test_no_grad_in_one_thread_leaves_the_others_alone():
    inside = threading.Event()
    leave = threading.Event()

    def evaluate():
        with chainrule.no_grad():
            inside.set()
            leave.wait(60)

    thread = threading.Thread(target=evaluate)
    thread.start()
    assert inside.wait(60)  # the other thread is inside no_grad while this one records
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    leave.set()
    thread.join()
    assert y.requires_grad and y.grad_fn is not None
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_inference_mode_is_per_thread():
    with chainrule.inference_mode():
        assert chainrule.is_inference_mode_enabled()
        assert _in_thread(chainrule.is_inference_mode_enabled) is False
    assert not chainrule.is_inference_mode_enabled()


def test_anomaly_mode_and_default_dtype_are_process_wide_as_in_pytorch():
    try:
        _in_thread(lambda: chainrule.autograd.set_detect_anomaly(True))
        assert chainrule.is_anomaly_enabled() is True
    finally:
        chainrule.autograd.set_detect_anomaly(False)
    try:
        _in_thread(lambda: chainrule.set_default_dtype(chainrule.float64))
        assert chainrule.get_default_dtype() is chainrule.float64
    finally:
        chainrule.set_default_dtype(chainrule.float32)


def _problem(seed: int) -> tuple:
    """A model and a batch, made in the calling thread (the default generator is shared by
    all threads, as PyTorch's is)."""
    rng = np.random.default_rng(seed)
    x = chainrule.tensor(rng.normal(size=(16, 8)).astype(np.float32))
    y = chainrule.tensor(rng.integers(0, 3, 16))
    chainrule.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)), x, y


def _train(problem: tuple, steps: int, barrier: threading.Barrier) -> list:
    model, x, y = problem
    optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
    barrier.wait(60)
    losses = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()  # runs under no_grad: only in this thread
        losses.append(loss.item())
    return losses


def _evaluate(model: nn.Module, x: chainrule.Tensor, steps: int, barrier: threading.Barrier) -> int:
    barrier.wait(60)
    for _ in range(steps):
        with chainrule.no_grad():
            out = model(x)
            assert out.grad_fn is None
    return steps


def test_two_threads_train_while_a_third_evaluates():
    """50 rounds: both trainings record every step and learn exactly as they do alone, while a
    third thread evaluates under no_grad; afterwards the main thread still records."""
    alone = [_train(_problem(seed), 5, threading.Barrier(1)) for seed in (1, 2)]
    evaluated = nn.Linear(8, 3)
    batch = chainrule.randn(4, 8)
    for _ in range(50):
        barrier = threading.Barrier(3)
        results: dict = {}

        def run(key, fn, *args):
            try:
                results[key] = fn(*args)
            except BaseException as error:  # noqa: BLE001 - checked below
                results[key] = error

        threads = [threading.Thread(target=run, args=(1, _train, _problem(1), 5, barrier)),
                   threading.Thread(target=run, args=(2, _train, _problem(2), 5, barrier)),
                   threading.Thread(target=run, args=("eval", _evaluate, evaluated, batch, 20, barrier))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for key, value in results.items():
            assert not isinstance(value, BaseException), f"thread {key}: {value!r}"
        assert results[1] == alone[0] and results[2] == alone[1]
        assert chainrule.is_grad_enabled()


@pytest.mark.parametrize("mode", ["yes", 1, None, 0.0])
def test_set_grad_enabled_takes_a_bool_only(mode):
    for lib in (torch, chainrule):
        with pytest.raises(TypeError, match=f"argument 'enabled' \\(position 1\\) must be bool, not {type(mode).__name__}"):
            lib.set_grad_enabled(mode)
        assert lib.is_grad_enabled()
