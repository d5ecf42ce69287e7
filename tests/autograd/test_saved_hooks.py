"""Hooks on saved values (chainrule.autograd.saved_hooks) against PyTorch."""
from __future__ import annotations

import os
import uuid

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close, pair


def _mlp(lib, seed=0):
    lib.manual_seed(seed)
    first = lib.nn.Linear(3, 4).double()
    second = lib.nn.Linear(4, 2).double()
    return first, second


def _run_mlp(lib, hooks):
    first, second = _mlp(lib)
    x = lib.tensor(np.linspace(-1, 1, 18).reshape(6, 3), dtype=lib.float64)
    with hooks:
        loss = second(lib.tanh(first(x))).pow(2).mean()
    loss.backward()
    return loss, first.weight.grad, second.weight.grad, first.bias.grad


def test_pack_and_unpack_see_every_saved_tensor_of_a_product():
    seen = {}
    for lib in (chainrule, torch):
        log = seen[lib.__name__] = []

        def pack(t):
            log.append(("pack", t.tolist(), t.requires_grad))
            return t.detach()

        def unpack(t):
            log.append(("unpack", t.tolist()))
            return t

        a = lib.ones(5, requires_grad=True)
        b = lib.ones(5, requires_grad=True) * 2
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = a * b
        assert len(log) == 2
        y.sum().backward()
        assert a.grad.tolist() == [2.0] * 5
    # The same tensors pack and unpack (PyTorch's Mul happens to save ``other`` first).
    assert sorted(seen["chainrule"]) == sorted(seen["torch"])
    assert [entry[0] for entry in seen["chainrule"]] == [entry[0] for entry in seen["torch"]]


def test_packing_to_temporary_files_gives_the_same_gradients(tmp_path):
    results = {}
    for lib in (chainrule, torch):
        files = []

        class SelfDeletingTempFile:
            def __init__(self):
                self.name = os.path.join(tmp_path, str(uuid.uuid4()))
                files.append(self.name)

            def __del__(self):
                os.remove(self.name)

        def pack_hook(tensor):
            temp_file = SelfDeletingTempFile()
            lib.save(tensor, temp_file.name)
            return temp_file

        def unpack_hook(temp_file):
            return lib.load(temp_file.name)

        results[lib.__name__] = _run_mlp(lib, lib.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook))
        assert files and not any(os.path.exists(f) for f in files)  # the graph (and its files) went
    for ours, theirs in zip(results["chainrule"], results["torch"]):
        assert_close(ours, theirs)


def test_gradients_without_hooks_are_the_same():
    hooked = _run_mlp(chainrule, chainrule.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t))
    plain = _run_mlp(torch, torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t))
    for ours, theirs in zip(hooked, plain):
        assert_close(ours, theirs)


def test_saved_tensor_counts_of_an_mlp():
    counts = {}
    for lib in (chainrule, torch):
        sizes = counts[lib.__name__] = []
        _run_mlp(lib, lib.autograd.graph.saved_tensors_hooks(lambda t: sizes.append(t.numel()) or t, lambda t: t))
    # PyTorch's first addmm keeps only the input (the data needs no gradient); chainrule's
    # Linear keeps its 4x3 weight too.  Everything else is saved alike (PyTorch keeps the
    # second weight as its transpose).
    assert len(counts["torch"]) == 5
    assert sorted(counts["torch"] + [12]) == sorted(counts["chainrule"])


def test_unpack_runs_at_backward_and_its_error_propagates():
    def unpack(t):
        raise ValueError("unpacked")

    x, _ = pair([1.0, 2.0])
    with chainrule.autograd.graph.saved_tensors_hooks(lambda t: t, unpack):
        y = (x * x).sum()
    with pytest.raises(ValueError, match="unpacked"):
        y.backward()


def test_retain_graph_unpacks_again_and_create_graph_keeps_second_derivatives():
    for lib in (chainrule, torch):
        calls = []
        x = lib.tensor([0.5, -1.5], dtype=lib.float64, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: calls.append(1) or t):
            y = (x.sin() * x).sum()
        first, = lib.autograd.grad(y, x, create_graph=True)
        second, = lib.autograd.grad(first.sum(), x, retain_graph=True)
        y.backward()
        if lib is torch:
            assert_close(ours_first, first)
            assert_close(ours_second, second)
            assert_close(ours_grad, x.grad)
            assert len(calls) == ours_calls == 7  # three per backward through the forward, one more through the second derivative
        else:
            ours_first, ours_second, ours_grad, ours_calls = first, second, x.grad, len(calls)


def test_unpack_must_return_a_tensor():
    x, _ = pair([1.0, 2.0])
    with chainrule.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
        y = x.exp().sum()
    with pytest.raises(TypeError, match="expected to be a Tensor"):
        y.backward()


def test_innermost_hooks_apply_and_leaving_restores_plain_recording():
    outer, inner = [], []
    x, _ = pair([1.0, 2.0])
    with chainrule.autograd.graph.saved_tensors_hooks(lambda t: outer.append(1) or t, lambda t: t):
        with chainrule.autograd.graph.saved_tensors_hooks(lambda t: inner.append(1) or t, lambda t: t):
            x.exp()
    assert (outer, inner) == ([], [1])
    assert not chainrule.autograd.observe.forward
    y = x.exp()
    assert isinstance(y.grad_fn.saved, tuple)


def test_save_on_cpu_gives_the_same_gradients():
    ours = _run_mlp(chainrule, chainrule.autograd.graph.save_on_cpu())
    theirs = _run_mlp(torch, torch.autograd.graph.save_on_cpu())
    for a, b in zip(ours, theirs):
        assert_close(a, b)


def test_disable_saved_tensors_hooks_raises_with_its_message():
    for lib in (chainrule, torch):
        with lib.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
            with pytest.raises(RuntimeError, match="no hooks here"):
                with lib.autograd.graph.save_on_cpu():
                    pass
        with lib.autograd.graph.save_on_cpu():
            pass


def test_hooks_run_without_grad_mode_and_what_they_compute_is_not_packed():
    seen = {}
    for lib in (chainrule, torch):
        log = seen[lib.__name__] = []

        def pack(t):
            log.append(("pack", lib.is_grad_enabled(), (t * t).requires_grad))
            return t * 2

        def unpack(t):
            log.append(("unpack", lib.is_grad_enabled()))
            return t / 2

        x = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = x.exp().sum()
        y.backward()
        assert_close(x.grad, np.exp([0.5, 1.5]))
    assert seen["chainrule"] == seen["torch"] == [("pack", False, False), ("unpack", False)]


def test_custom_functions_pack_what_they_save():
    results = {}
    for lib in (chainrule, torch):
        class ScaledExp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                y = x.exp() * w
                ctx.save_for_backward(x, w, y)
                return y

            @staticmethod
            def backward(ctx, grad):
                x, w, y = ctx.saved_tensors
                return grad * y, grad * x.exp()

        log = results[lib.__name__] = []
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([2.0, 3.0], dtype=lib.float64, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: log.append(t.tolist()) or ("box", t.detach()),
                                                    lambda box: log.append("unpack") or box[1]):
            y = ScaledExp.apply(x, w)
        y.sum().backward()
        log.append((x.grad.tolist(), w.grad.tolist()))
    assert results["chainrule"] == results["torch"]


def test_packed_activations_are_not_kept_by_the_graph():
    import gc
    import weakref

    x = chainrule.tensor(np.linspace(0, 1, 1000), requires_grad=True)
    with chainrule.autograd.graph.saved_tensors_hooks(lambda t: t.numpy(force=True).tobytes(),
                                                       lambda b: chainrule.tensor(np.frombuffer(b))):
        hidden = x.exp()
        kept = weakref.ref(hidden._data)
        loss = hidden.sin().sum()
    del hidden
    gc.collect()
    assert kept() is None  # only the bytes the hook returned stay in the graph
    loss.backward()
    assert_close(x.grad, np.cos(np.exp(np.linspace(0, 1, 1000))) * np.exp(np.linspace(0, 1, 1000)))
