"""The optimizers' update in pieces (chainrule.optim.pieces): blocks of large parameters, small
ones gathered through flat state, ``foreach``/``fused`` accepted as in PyTorch; every way of
cutting the update gives the same bits as updating one parameter at a time."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.optim import pieces

from conftest import assert_close

# A parameter larger than a block, small ones around it, a 0-d one.
SHAPES = ((3, 4), (pieces.BLOCK_BYTES // 4 + 1000,), (5,), (), (7, 2))
CASES = {
    "SGD": {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    "Adam": {"amsgrad": True, "weight_decay": 0.1, "maximize": True},
    "AdamW": {"weight_decay": 0.2},
    "RMSprop": {"centered": True, "momentum": 0.5},
    "Adagrad": {"lr_decay": 0.01, "initial_accumulator_value": 0.1},
}


def _train(lib, name, dtype, steps=6, skip=True, **flags):
    """Parameters after ``steps`` updates from fixed gradients (with ``skip``, parameter i gets
    none when (i + step) % 4 == 3: pieces then split around it) and the optimizer."""
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES
              if s or np.dtype(dtype).kind != "c"]
    opt = getattr(lib.optim, name)(params, lr=0.01, **CASES[name], **flags)
    for t in range(steps):
        for i, p in enumerate(params):
            values = p.detach().numpy()
            p.grad = None if skip and (i + t) % 4 == 3 else lib.tensor(np.sin(values) + rng.standard_normal(values.shape).astype(dtype))
        opt.step()
    return params, opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("name", list(CASES))
def test_all_ways_of_cutting_the_update_give_the_same_bits(name, dtype):
    alone, _ = _train(chainrule, name, dtype, foreach=False)
    together, opt = _train(chainrule, name, dtype)
    for a, b in zip(alone, together):
        assert a._data.tobytes() == b._data.tobytes()
    if name != "SGD" or dtype is not np.complex64:
        flat_flags = {"fused": True} if name != "RMSprop" and dtype is not np.complex64 else {"foreach": True}
        fused, _ = _train(chainrule, name, dtype, **flat_flags)
        for a, b in zip(alone, fused):
            assert a._data.tobytes() == b._data.tobytes()
    # The small parameters' state is one flat buffer per state name.
    layout = next(iter(opt._layouts.values()))
    assert len(layout.slots) == len(together)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_matches_torch_fused(name):
    # (PyTorch's fused SGD fails on a parameter without a gradient: every one gets one here.)
    ours, ours_opt = _train(chainrule, name, np.float64, steps=10, skip=False, fused=True)
    theirs, theirs_opt = _train(torch, name, np.float64, steps=10, skip=False, fused=True)
    for a, b in zip(ours, theirs):
        assert_close(a, b, rtol=1e-10, atol=1e-10)
    for a, b in zip(ours, theirs):
        ours_state, theirs_state = ours_opt.state[a], theirs_opt.state[b]
        assert list(ours_state) == list(theirs_state)
        for key in ours_state:
            assert ours_state[key].numpy().dtype == theirs_state[key].numpy().dtype, key
            assert_close(ours_state[key].numpy(), theirs_state[key].numpy(), rtol=1e-10, atol=1e-10)
    assert ours_opt.param_groups[0]["fused"] is True


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_and_foreach_together_are_refused_as_in_torch(name):
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together."):
            getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], fused=True, foreach=True)


def test_fused_refuses_a_complex_parameter_as_torch():
    messages = []
    for lib in (torch, chainrule):
        p = lib.zeros(2, dtype=lib.complex64, requires_grad=True)
        p.grad = lib.ones(2, dtype=lib.complex64)
        with pytest.raises(RuntimeError) as error:
            lib.optim.Adam([p], fused=True).step()
        messages.append(str(error.value))
    prefix = "`fused=True` requires all the params to be floating point Tensors of supported devices: "
    assert all(m.startswith(prefix) for m in messages)
    assert messages[1].endswith("but chainrule.complex64 and cpu")


def test_state_replaced_by_the_user_or_loaded_is_used():
    """The flat layout follows what the state is now, not what it was."""
    params, opt = _train(chainrule, "Adam", np.float64, steps=2)
    reference, reference_opt = _train(chainrule, "Adam", np.float64, steps=2, foreach=False)
    for run, optimizer in ((params, opt), (reference, reference_opt)):
        state = optimizer.state[run[0]]
        state["exp_avg"] = chainrule.tensor(np.full(state["exp_avg"].shape, 0.5))
        optimizer.load_state_dict(optimizer.state_dict())
        for p in run:
            p.grad = chainrule.ones_like(p)
        optimizer.step()
    for a, b in zip(params, reference):
        assert a._data.tobytes() == b._data.tobytes()


def test_replaced_parameter_arrays_are_updated_in_place():
    p = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    q = chainrule.tensor([4.0, 5.0], requires_grad=True)
    opt = chainrule.optim.SGD([p, q], lr=0.5, momentum=0.9)
    for t in range(3):
        if t == 1:
            p.data = chainrule.tensor([[1.0, 9.0], [2.0, 9.0], [3.0, 9.0]])[:, 0]  # not contiguous
        p.grad, q.grad = chainrule.ones(3), chainrule.ones(2)
        opt.step()
    assert p.tolist() == pytest.approx([v - 0.5 * (1.9 + 2.71) for v in (1.0, 2.0, 3.0)])
    assert q.tolist() == pytest.approx([4.0 - 0.5 * (1 + 1.9 + 2.71), 5.0 - 0.5 * (1 + 1.9 + 2.71)])


def test_a_parameter_twice_in_a_group_is_updated_twice():
    p = chainrule.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning):
        opt = chainrule.optim.SGD([p, p], lr=0.5)
    p.grad = chainrule.tensor([1.0])
    opt.step()
    assert p.tolist() == [0.0]
