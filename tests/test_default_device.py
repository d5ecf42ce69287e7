"""``chainrule.set_default_device`` / ``get_default_device``: the CPU by default; a device
chainrule can compute on (the stand-in GPU here) when set; a clear error for the others."""
from __future__ import annotations

import pytest
import torch

import chainrule
from device_standin import DeviceArray, no_gpu, stand_in


def test_cpu_is_the_default_and_can_be_set():
    assert chainrule.get_default_device() == chainrule.device("cpu")
    assert repr(chainrule.get_default_device()) == repr(torch.get_default_device())
    try:
        chainrule.set_default_device("cpu")
        assert chainrule.get_default_device() == "cpu"
        chainrule.set_default_device(chainrule.device("cpu", 0))
        assert chainrule.get_default_device() == chainrule.device("cpu:0")
        assert chainrule.zeros(2).device.type == "cpu"
    finally:
        chainrule.set_default_device(None)
    assert chainrule.get_default_device() == chainrule.device("cpu")


def test_factories_and_modules_follow_the_default_device():
    with stand_in():
        try:
            chainrule.set_default_device("cuda")
            assert chainrule.get_default_device() == chainrule.device("cuda", 0)
            for tensor in (chainrule.zeros(2), chainrule.tensor([1.0]), chainrule.arange(3), chainrule.randn(2),
                           chainrule.nn.Linear(2, 3).weight):
                assert isinstance(tensor._data, DeviceArray) and str(tensor.device) == "cuda:0"
            assert repr(chainrule.ones(2)) == "tensor([1., 1.])"  # PyTorch omits the default device
        finally:
            chainrule.set_default_device(None)


@pytest.mark.parametrize("device,message", [
    ("cuda", "CUDA is not available"), ("cuda:1", "CUDA is not available"), (0, "CUDA is not available"),
    (chainrule.device("mps"), "chainrule has no 'mps' backend"), ("meta", "chainrule has no 'meta' backend"),
    ("tpu", "Expected one of cpu, cuda device type at start of device string: tpu"),
])
def test_devices_chainrule_cannot_use_here_are_a_clear_error(device, message):
    with no_gpu(), pytest.raises(RuntimeError, match=message):
        chainrule.set_default_device(device)
    assert chainrule.get_default_device() == chainrule.device("cpu")


def test_a_device_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="expected a device"):
        chainrule.set_default_device(1.5)
