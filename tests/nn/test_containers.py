"""Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict against PyTorch."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from nn_twins import run_both, twin


def layers(lib_nn):
    return [lib_nn.Linear(2, 3), lib_nn.ReLU(), lib_nn.Linear(3, 1)]


def test_sequential_forward_and_state_dict_match_torch():
    c, t = twin(lambda nn: nn.Sequential(*layers(nn)))
    run_both(c, t, np.random.default_rng(0).standard_normal((4, 2)))
    assert repr(c) == repr(t)


def test_sequential_from_ordered_dict():
    c, t = twin(lambda nn: nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())])))
    assert list(c.state_dict()) == list(t.state_dict()) == ["fc.weight", "fc.bias"]
    assert isinstance(c.fc, nn.Linear)
    assert repr(c) == repr(t)


def test_sequential_indexing():
    c = nn.Sequential(*layers(nn))
    first, act, last = list(c)
    assert len(c) == 3
    assert c[0] is first and c[-1] is last and c[-3] is first
    part = c[1:]
    assert isinstance(part, nn.Sequential) and list(part) == [act, last]
    assert list(part.state_dict()) == list(torch.nn.Sequential(*layers(torch.nn))[1:].state_dict())
    assert list(c[::2]) == [first, last]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        c[3]
    c[1] = nn.Sigmoid()
    assert isinstance(c[1], nn.Sigmoid)
    del c[1]
    assert len(c) == 2 and list(c._modules) == ["0", "1"]


def test_sequential_growth():
    c = nn.Sequential(nn.Linear(2, 2))
    assert c.append(nn.ReLU()) is c
    c.insert(0, nn.Identity())
    c.insert(-1, nn.Tanh())
    c.extend([nn.Sigmoid(), nn.Identity()])
    t = torch.nn.Sequential(torch.nn.Linear(2, 2))
    t.append(torch.nn.ReLU())
    t.insert(0, torch.nn.Identity())
    t.insert(-1, torch.nn.Tanh())
    t.extend([torch.nn.Sigmoid(), torch.nn.Identity()])
    assert repr(c) == repr(t)
    combined = c + nn.Sequential(nn.ReLU())
    assert len(combined) == len(c) + 1
    assert len(nn.Sequential(nn.ReLU()) * 3) == 3
    assert isinstance(c.pop(0), nn.Identity) and len(c) == 5


def test_nested_sequential_state_dict_keys():
    c, t = twin(lambda nn: nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)), nn.Linear(3, 1)))
    assert list(c.state_dict()) == list(t.state_dict())
    run_both(c, t, np.random.default_rng(1).standard_normal((5, 2)))


def test_module_list():
    def stack(lib_nn):
        class Stack(lib_nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = lib_nn.ModuleList([lib_nn.Linear(3, 3) for _ in range(3)])

        return Stack()

    c = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    assert len(c) == 2 and isinstance(c[-1], nn.ReLU)
    c.append(nn.Tanh())
    c.extend([nn.Sigmoid()])
    c.insert(1, nn.Identity())
    c += [nn.ReLU()]
    assert [type(m).__name__ for m in c] == ["Linear", "Identity", "ReLU", "Tanh", "Sigmoid", "ReLU"]
    assert isinstance(c[1:3], nn.ModuleList) and len(c[1:3]) == 2
    del c[0]
    assert isinstance(c[0], nn.Identity) and list(c._modules) == [str(i) for i in range(5)]
    with pytest.raises(IndexError):
        c[10]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        c.extend(3)
    assert list(stack(nn).state_dict()) == list(stack(torch.nn).state_dict()) == [
        f"layers.{i}.{p}" for i in range(3) for p in ("weight", "bias")]
    assert repr(nn.ModuleList([nn.Linear(2, 2)] * 3 + [nn.ReLU()])) == repr(
        torch.nn.ModuleList([torch.nn.Linear(2, 2)] * 3 + [torch.nn.ReLU()]))


def test_module_dict():
    c = nn.ModuleDict({"fc": nn.Linear(2, 2), "act": nn.ReLU()})
    t = torch.nn.ModuleDict({"fc": torch.nn.Linear(2, 2), "act": torch.nn.ReLU()})
    assert list(c.keys()) == list(t.keys()) and "fc" in c and len(c) == 2
    assert list(c.state_dict()) == list(t.state_dict())
    c["out"] = nn.Tanh()
    c.update([("extra", nn.Identity())])
    assert list(c) == ["fc", "act", "out", "extra"]
    assert isinstance(c.pop("out"), nn.Tanh) and "out" not in c
    assert [type(v).__name__ for v in c.values()] == ["Linear", "ReLU", "Identity"]
    assert repr(c) == repr(torch.nn.ModuleDict(
        {"fc": torch.nn.Linear(2, 2), "act": torch.nn.ReLU(), "extra": torch.nn.Identity()}))
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        c.update([("a", nn.ReLU(), 1)])


def test_parameter_list_and_dict():
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.ParameterList([chainrule.ones(2), nn.Parameter(chainrule.zeros(3))])
            self.named = nn.ParameterDict({"b": chainrule.ones(1), "a": chainrule.zeros(1)})

    h = Holder()
    assert all(isinstance(p, nn.Parameter) for p in h.weights)
    assert len(h.weights) == 2 and h.weights[-1].shape == (3,)
    assert [n for n, _ in h.named_parameters()] == ["weights.0", "weights.1", "named.a", "named.b"]
    h.weights.append(chainrule.ones(4))
    assert len(list(h.parameters())) == 5
    assert list(h.named) == ["a", "b"] and "a" in h.named
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        h.weights()
    t = torch.nn.ParameterList([torch.ones(2), torch.nn.Parameter(torch.zeros(3))])
    assert repr(nn.ParameterList([chainrule.ones(2), nn.Parameter(chainrule.zeros(3))])) == repr(t).replace("torch.", "chainrule.")
