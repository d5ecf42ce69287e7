"""Run the same module architecture in chainrule and PyTorch (float64, same weights) and
compare outputs, gradients of inputs and parameters, and buffers."""
from __future__ import annotations

import numpy as np
import torch

import chainrule
import chainrule.nn as nn
from conftest import assert_close


def twin(make):
    """(chainrule module, torch module) built by ``make(lib.nn)``, float64, torch's weights."""
    t_module = make(torch.nn).double()
    c_module = make(nn).double()
    c_module.load_state_dict({k: v.detach().numpy() for k, v in t_module.state_dict().items()})
    return c_module, t_module


def run_both(c_module, t_module, *inputs, seed=0, backward=True):
    """Forward (and backward with a random upstream gradient) on both; compares outputs,
    input gradients, parameter gradients and buffers."""
    c_in, t_in = [], []
    for x in inputs:
        x = np.asarray(x)
        floating = x.dtype.kind == "f"
        c_in.append(chainrule.tensor(x, requires_grad=floating and backward))
        t_in.append(torch.tensor(x, requires_grad=floating and backward))
    out_c = c_module(*c_in)
    out_t = t_module(*t_in)
    assert_close(out_c, out_t, what="output")
    if backward:
        s = np.random.default_rng(seed).standard_normal(tuple(out_t.shape))
        out_t.backward(torch.tensor(s))
        out_c.backward(chainrule.tensor(s))
        for i, (c, t) in enumerate(zip(c_in, t_in)):
            if t.requires_grad:
                assert_close(c.grad, t.grad, what=f"grad of input {i}")
        t_params = dict(t_module.named_parameters())
        for name, p in c_module.named_parameters():
            if t_params[name].grad is None:
                assert p.grad is None, name
            else:
                assert_close(p.grad, t_params[name].grad, what=f"grad of {name}")
    t_state = t_module.state_dict()
    c_state = c_module.state_dict()
    assert list(c_state) == list(t_state)
    for key in t_state:
        assert_close(c_state[key], t_state[key], what=key)
    return out_c, out_t
