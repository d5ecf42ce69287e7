"""``chainrule.set_default_device`` / ``get_default_device``: the CPU, and a clear error for
any device chainrule has no backend for."""
from __future__ import annotations

import pytest
import torch

import chainrule


def test_cpu_is_the_default_and_can_be_set():
    assert chainrule.get_default_device() == chainrule.device("cpu")
    assert repr(chainrule.get_default_device()) == repr(torch.get_default_device())
    try:
        chainrule.set_default_device("cpu")
        assert chainrule.get_default_device() == "cpu"
        chainrule.set_default_device(chainrule.device("cpu", 0))
        assert chainrule.get_default_device() == chainrule.device("cpu:0")
    finally:
        chainrule.set_default_device(None)
    assert chainrule.get_default_device() == chainrule.device("cpu")


@pytest.mark.parametrize("device", ["cuda", "cuda:1", chainrule.device("mps"), 0, "meta"])
def test_other_devices_are_a_clear_error(device):
    with pytest.raises(RuntimeError, match="chainrule computes on the CPU only: there is no '(cuda|mps|meta)' backend"):
        chainrule.set_default_device(device)
    assert chainrule.get_default_device() == chainrule.device("cpu")


def test_a_device_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="expected a device"):
        chainrule.set_default_device(1.5)
