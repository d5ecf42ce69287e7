"""chainrule.amp (torch.amp): autocast runs regions as written and reports them; GradScaler
is PyTorch's, step for step (the training program with overflowing steps is
tests/compat/programs/p56_training_script_switches.py)."""
from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn


def _model_and_optimizer():
    model = nn.Linear(3, 2)
    return model, chainrule.optim.SGD(model.parameters(), lr=0.1)


def test_the_scaler_refuses_what_pytorchs_refuses():
    model, optimizer = _model_and_optimizer()
    scaler = chainrule.amp.GradScaler("cpu")
    scaler.scale(model(chainrule.ones(1, 3)).sum()).backward()
    scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(optimizer)
    scaler.step(optimizer)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(optimizer)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step\\(\\)"):
        scaler.unscale_(optimizer)
    scaler.update()
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(optimizer, closure=lambda: None)
    with pytest.raises(AssertionError, match="No inf checks were recorded"):
        chainrule.amp.GradScaler("cpu").update()


def test_the_unscaled_gradients_are_the_unscaled_ones_and_the_state_dict_is_pytorchs():
    model, optimizer = _model_and_optimizer()
    x = chainrule.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    model(x).square().sum().backward()
    plain = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    scaler = chainrule.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=1)
    scaler.scale(model(x).square().sum()).backward()
    scaler.unscale_(optimizer)
    assert all(np.array_equal(p.grad.numpy(), g) for p, g in zip(model.parameters(), plain))
    scaler.step(optimizer)
    scaler.update()
    theirs = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=1)
    assert list(scaler.state_dict()) == list(theirs.state_dict())
    assert scaler.get_scale() == 2048.0  # one clean step with growth_interval 1
    again = chainrule.amp.GradScaler("cpu")
    again.load_state_dict(scaler.state_dict())
    assert again.state_dict() == scaler.state_dict()


def test_a_disabled_scaler_passes_everything_through():
    model, optimizer = _model_and_optimizer()
    scaler = chainrule.amp.GradScaler("cpu", enabled=False)
    loss = model(chainrule.ones(1, 3)).sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    loss.backward()
    scaler.step(optimizer)
    scaler.update()


def test_cuda_spellings_warn_and_turn_off_without_a_gpu():
    if chainrule.cuda.is_available():
        pytest.skip("a GPU is present: the cuda scaler stays on")
    with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available.  Disabling."):
        assert not chainrule.amp.GradScaler("cuda").is_enabled()
    with pytest.warns(FutureWarning, match=r"`torch.cuda.amp.GradScaler\(args...\)` is deprecated"):
        assert not chainrule.cuda.amp.GradScaler().is_enabled()
    with pytest.warns(FutureWarning, match=r"`torch.cuda.amp.autocast\(args...\)` is deprecated"):
        region = chainrule.cuda.amp.autocast()
    with region:
        assert not chainrule.is_autocast_enabled("cuda")


def test_autocast_reports_its_region_per_thread_and_decorates():
    seen = []

    @chainrule.autocast("cpu", dtype=chainrule.bfloat16)
    def inside():
        seen.append(chainrule.is_autocast_enabled("cpu"))
        other = threading.Thread(target=lambda: seen.append(chainrule.is_autocast_enabled("cpu")))
        other.start()
        other.join()
        return chainrule.ones(2, 2) @ chainrule.ones(2, 2)

    out = inside()
    assert seen == [True, False] and not chainrule.is_autocast_enabled("cpu")
    assert out.dtype == chainrule.bfloat16 and out.tolist() == [[2.0, 2.0], [2.0, 2.0]]  # (PyTorch's)
    with chainrule.autocast("cpu", enabled=False):
        assert not chainrule.is_autocast_enabled("cpu")
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        chainrule.autocast(5)
    assert chainrule.get_autocast_dtype("cpu") is chainrule.bfloat16


def test_the_amp_names_import_under_the_torch_alias():
    from chainrule.torch_alias import aliased

    namespace: dict = {}
    with aliased(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec("from torch.cuda.amp import GradScaler, autocast\nfrom torch.amp import GradScaler as G2\n"
             "import torch.backends.cudnn as cudnn", namespace)
    assert namespace["GradScaler"] is chainrule.cuda.amp.GradScaler and namespace["G2"] is chainrule.amp.GradScaler
    assert namespace["cudnn"] is chainrule.backends.cudnn


def test_a_disabled_inner_region_turns_autocast_off_until_it_ends():
    with chainrule.autocast("cpu"):
        with chainrule.autocast("cpu", enabled=False):
            assert not chainrule.is_autocast_enabled("cpu")
        assert chainrule.is_autocast_enabled("cpu")
    assert not chainrule.is_autocast_enabled("cpu")


def test_the_cpu_device_module_and_its_deprecated_amp_spellings():
    for lib in (torch, chainrule):
        assert (lib.cpu.is_available(), lib.cpu.device_count(), lib.cpu.current_device()) == (True, 1, "cpu")
        lib.cpu.synchronize()
        with pytest.warns(FutureWarning, match="torch.cpu.amp.autocast\\(args...\\)` is deprecated"):
            with lib.cpu.amp.autocast():
                assert (lib.ones(2, 2) @ lib.ones(2, 2)).dtype == lib.bfloat16
        with pytest.warns(FutureWarning, match="torch.cpu.amp.GradScaler\\(args...\\)` is deprecated"):
            lib.cpu.amp.GradScaler()
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
            lib.ones(2).pin_memory()
        assert lib.ones(2).is_pinned() is False
