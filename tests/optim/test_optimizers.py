"""chainrule.optim against torch.optim: the same parameters and the same gradient sequence
give the same parameters and state, step for step."""
from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import optim

from conftest import assert_close

SHAPES = ((3, 4), (5,), ())
STEPS = 20

# Each optimizer with options alone and combined; both branches of lerp (weight < 0.5 and
# >= 0.5) through betas / alpha.
CASES = {
    "SGD": [
        {}, {"momentum": 0.9}, {"momentum": 0.9, "dampening": 0.3}, {"momentum": 0.9, "nesterov": True},
        {"weight_decay": 0.1}, {"maximize": True},
        {"momentum": 0.8, "nesterov": True, "weight_decay": 0.05, "maximize": True},
        {"momentum": 0.5, "dampening": 0.5, "weight_decay": 0.2},
    ],
    "Adam": [
        {}, {"amsgrad": True}, {"weight_decay": 0.1}, {"maximize": True}, {"eps": 1e-3},
        {"betas": (0.3, 0.5)}, {"amsgrad": True, "weight_decay": 0.1, "maximize": True},
        {"decoupled_weight_decay": True, "weight_decay": 0.1},
    ],
    "AdamW": [
        {}, {"amsgrad": True}, {"weight_decay": 0.3}, {"maximize": True}, {"betas": (0.3, 0.5)},
        {"amsgrad": True, "weight_decay": 0.2, "maximize": True, "eps": 1e-4},
    ],
    "RMSprop": [
        {}, {"centered": True}, {"momentum": 0.9}, {"weight_decay": 0.1}, {"maximize": True},
        {"alpha": 0.3, "centered": True}, {"eps": 1e-2},
        {"centered": True, "momentum": 0.5, "weight_decay": 0.1, "maximize": True},
    ],
    "Adagrad": [
        {}, {"lr_decay": 0.05}, {"weight_decay": 0.1}, {"initial_accumulator_value": 0.1},
        {"maximize": True}, {"eps": 1e-3},
        {"lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "maximize": True},
    ],
    "Adadelta": [
        {}, {"rho": 0.5}, {"weight_decay": 0.1}, {"maximize": True}, {"eps": 1e-3},
        {"rho": 0.3, "weight_decay": 0.1, "maximize": True, "lr": 0.5},
    ],
    "Adamax": [
        {}, {"weight_decay": 0.1}, {"maximize": True}, {"betas": (0.3, 0.5)}, {"eps": 1e-3},
        {"betas": (0.5, 0.9), "weight_decay": 0.1, "maximize": True},
    ],
    "NAdam": [
        {}, {"weight_decay": 0.1}, {"maximize": True}, {"betas": (0.3, 0.5)}, {"momentum_decay": 0.1},
        {"decoupled_weight_decay": True, "weight_decay": 0.1},
        {"betas": (0.5, 0.9), "weight_decay": 0.1, "maximize": True, "eps": 1e-4},
    ],
    "RAdam": [
        {}, {"weight_decay": 0.1}, {"maximize": True}, {"betas": (0.3, 0.5)}, {"betas": (0.9, 0.9)},
        {"decoupled_weight_decay": True, "weight_decay": 0.1},
        {"betas": (0.5, 0.8), "weight_decay": 0.1, "maximize": True, "eps": 1e-4},
    ],
    "Rprop": [
        {}, {"etas": (0.3, 1.5)}, {"step_sizes": (1e-3, 0.02)}, {"maximize": True},
        {"etas": (0.6, 1.1), "step_sizes": (1e-4, 1.0), "maximize": True},
    ],
    "ASGD": [
        {}, {"lambd": 0.01}, {"alpha": 0.5}, {"t0": 3}, {"weight_decay": 0.1}, {"maximize": True},
        {"lambd": 0.05, "t0": 5, "weight_decay": 0.1, "maximize": True},
    ],
}
LR = {"Rprop": 0.05, "ASGD": 0.05, "SGD": 0.05, "Adam": 0.05, "AdamW": 0.05, "RMSprop": 0.01, "Adagrad": 0.1, "Adadelta": 1.0, "Adamax": 0.05,
      "NAdam": 0.05, "RAdam": 0.05}
PARITY = [(name, kw) for name, cases in CASES.items() for kw in cases]
#: State that PyTorch keeps in the step counter's dtype (float32) but casts to the parameter's
#: dtype when a state_dict is loaded: a loaded run goes on from a float64 copy of it, within
#: float32 rounding of a run that was not interrupted (PyTorch's own behaviour).
CAST_ON_LOAD = {"NAdam": "mu_product", "ASGD": "eta, mu"}
FULL = {  # the richest option set of each, for the round-trip and dtype tests
    "SGD": {"momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
    "Adam": {"amsgrad": True, "weight_decay": 0.1},
    "AdamW": {"amsgrad": True},
    "RMSprop": {"centered": True, "momentum": 0.5, "weight_decay": 0.1},
    "Adagrad": {"lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1},
    "Adadelta": {"rho": 0.8, "weight_decay": 0.1},
    "Adamax": {"weight_decay": 0.1},
    "NAdam": {"weight_decay": 0.1, "momentum_decay": 0.01},
    "RAdam": {"weight_decay": 0.1},
    "Rprop": {"etas": (0.4, 1.3)},
    "ASGD": {"t0": 4, "weight_decay": 0.1},
}


def _ids(case):
    name, kw = case
    return name + "-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "default")


class Run:
    """One library's parameters and optimizer, fed a reproducible gradient sequence."""

    def __init__(self, lib, name, kwargs, dtype=np.float64, seed=0, groups=None):
        self.lib = lib
        rng = np.random.default_rng(seed)
        self.noise = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(2 * STEPS)]
        start = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        self.params = [lib.tensor(a.copy(), requires_grad=True) for a in start]
        cls = getattr(lib.optim, name)
        if groups is None:
            self.opt = cls(self.params, **kwargs)
        else:
            self.opt = cls([{"params": [self.params[i] for i in idx], **extra} for idx, extra in groups],
                           **kwargs)
        self.t = 0

    def values(self, p):
        return p._data if self.lib is chainrule else p.detach().numpy()

    def step(self):
        """Gradient of a fixed non-quadratic loss at the current parameters, plus fixed noise;
        the scalar parameter gets no gradient every third step (its update is skipped)."""
        for i, p in enumerate(self.params):
            if i == 2 and self.t % 3 == 2:
                p.grad = None
                continue
            x = self.values(p)
            g = 0.5 * x + np.sin(3 * x) + self.noise[self.t][i]
            p.grad = self.lib.tensor(np.asarray(g, dtype=x.dtype))
        self.opt.step()
        self.t += 1


def _torch_state(sd):
    return {k: {n: (v.detach().numpy() if isinstance(v, torch.Tensor) else v) for n, v in s.items()}
            for k, s in sd["state"].items()}


def _ours_state(sd):
    return {k: {n: (v.numpy() if isinstance(v, chainrule.Tensor) else v) for n, v in s.items()}
            for k, s in sd["state"].items()}


def _assert_same_state(ours, theirs, rtol=1e-10, atol=1e-10):
    a, b = _ours_state(ours), _torch_state(theirs)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].keys() == b[k].keys(), (k, a[k].keys(), b[k].keys())
        for n in a[k]:
            assert np.asarray(a[k][n]).dtype == np.asarray(b[k][n]).dtype, (k, n)
            assert_close(a[k][n], b[k][n], rtol=rtol, atol=atol, what=f"state[{k}][{n}]")
    groups_a = [{k: v for k, v in g.items()} for g in ours["param_groups"]]
    groups_b = [{k: v for k, v in g.items()} for g in theirs["param_groups"]]
    assert groups_a == groups_b


@pytest.mark.parametrize("case", PARITY, ids=_ids)
def test_matches_torch_over_20_steps(case):
    name, kwargs = case
    kwargs = {"lr": LR[name], **kwargs}
    ours, theirs = Run(chainrule, name, kwargs), Run(torch, name, kwargs)
    for _ in range(STEPS):
        ours.step()
        theirs.step()
        for a, b in zip(ours.params, theirs.params):
            assert_close(a, b, rtol=1e-10, atol=1e-10)
    for a in ours.params:
        assert np.isfinite(a.data).all()
        assert a.data.dtype == np.float64
    _assert_same_state(ours.opt.state_dict(), theirs.opt.state_dict())


@pytest.mark.parametrize("name", list(FULL))
def test_state_dict_round_trip_resumes_exactly(name):
    kwargs = {"lr": LR[name], **FULL[name]}
    straight = Run(chainrule, name, kwargs)
    for _ in range(STEPS):
        straight.step()

    first = Run(chainrule, name, kwargs)
    for _ in range(STEPS // 2):
        first.step()
    saved = first.opt.state_dict()
    resumed = Run(chainrule, name, {**kwargs, "lr": 123.0})  # the loaded groups bring lr back
    resumed.t = first.t
    for p, q in zip(resumed.params, first.params):
        p.data[...] = q.data
    resumed.opt.load_state_dict(saved)
    assert resumed.opt.param_groups[0]["lr"] == LR[name]
    assert resumed.opt.param_groups[0]["params"] == resumed.params  # identity, not values
    # The loaded state is a copy: the source stepping on does not disturb it.
    first.step()
    for _ in range(STEPS // 2):
        resumed.step()
    for a, b in zip(resumed.params, straight.params):
        if name in CAST_ON_LOAD:
            np.testing.assert_allclose(a.data, b.data, rtol=1e-6)
        else:
            np.testing.assert_array_equal(a.data, b.data)
    assert _ours_state(resumed.opt.state_dict()).keys() == _ours_state(straight.opt.state_dict()).keys()


@pytest.mark.parametrize("name", list(FULL))
def test_state_dict_layout_loads_into_torch(name):
    """Our state_dict, converted tensor by tensor, is a valid torch state_dict: torch resumes
    from it and keeps agreeing with us."""
    kwargs = {"lr": LR[name], **FULL[name]}
    ours = Run(chainrule, name, kwargs)
    for _ in range(STEPS // 2):
        ours.step()
    sd = ours.opt.state_dict()
    converted = {
        "state": {k: {n: torch.tensor(v.numpy()) if isinstance(v, chainrule.Tensor) else v
                      for n, v in s.items()} for k, s in sd["state"].items()},
        "param_groups": copy.deepcopy(sd["param_groups"]),
    }
    theirs = Run(torch, name, kwargs)
    theirs.t = ours.t
    with torch.no_grad():
        for p, q in zip(theirs.params, ours.params):
            p.copy_(torch.tensor(q.detach().numpy()))
    theirs.opt.load_state_dict(converted)
    if name in CAST_ON_LOAD:  # go on from the same (cast) state as PyTorch
        ours.opt.load_state_dict(ours.opt.state_dict())
    for _ in range(STEPS // 2):
        ours.step()
        theirs.step()
    for a, b in zip(ours.params, theirs.params):
        assert_close(a, b, rtol=1e-10, atol=1e-10)
    _assert_same_state(ours.opt.state_dict(), theirs.opt.state_dict())


@pytest.mark.parametrize("name", list(FULL))
def test_float32_stays_float32(name):
    kwargs = {"lr": LR[name], **FULL[name]}
    ours = Run(chainrule, name, kwargs, dtype=np.float32)
    theirs = Run(torch, name, kwargs, dtype=np.float32)
    buffers = [p._data for p in ours.params]
    for _ in range(STEPS):
        ours.step()
        theirs.step()
    for p, b, q in zip(ours.params, buffers, theirs.params):
        assert p._data is b and p._data.dtype == np.float32
        assert p.dtype == chainrule.float32
        assert_close(p, q, rtol=1e-5, atol=1e-5)
    for state in ours.opt.state.values():
        for key, value in state.items():
            assert value.data.dtype == np.float32, key
    _assert_same_state(ours.opt.state_dict(), theirs.opt.state_dict(), rtol=1e-5, atol=1e-5)


def test_step_counter_follows_default_dtype():
    previous = chainrule.get_default_dtype()
    chainrule.set_default_dtype(chainrule.float64)
    try:
        p = chainrule.tensor([1.0, 2.0], requires_grad=True)
        opt = optim.Adam([p])
        p.grad = chainrule.ones(2)
        opt.step()
        assert opt.state[p]["step"].dtype == chainrule.float64
    finally:
        chainrule.set_default_dtype(previous)
    opt = optim.Adam([p])
    opt.step()
    assert opt.state[p]["step"].dtype == chainrule.float32
    assert opt.state[p]["step"].item() == 1.0


@pytest.mark.parametrize("name", list(FULL))
def test_param_groups_with_their_own_options(name):
    kwargs = {"lr": LR[name], **FULL[name]}
    groups = [([0], {"lr": LR[name] * 3}), ([1, 2], {"weight_decay": 0.3})]
    ours = Run(chainrule, name, kwargs, groups=groups)
    theirs = Run(torch, name, kwargs, groups=groups)
    assert ours.opt.param_groups[0]["lr"] == LR[name] * 3
    assert ours.opt.param_groups[1]["lr"] == LR[name]
    for _ in range(STEPS):
        ours.step()
        theirs.step()
    for a, b in zip(ours.params, theirs.params):
        assert_close(a, b, rtol=1e-10, atol=1e-10)
    _assert_same_state(ours.opt.state_dict(), theirs.opt.state_dict())


def test_add_param_group_matches_torch():
    runs = []
    for lib in (chainrule, torch):
        a = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.5, 3.0, -1.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.Adam([a], lr=0.1)
        for t in range(10):
            if t == 4:
                opt.add_param_group({"params": b, "lr": 0.01, "amsgrad": True})
            for p in (a, b):
                p.grad = lib.tensor(np.cos(np.arange(p.shape[0]) + t) + 0.1 * t, dtype=lib.float64)
            opt.step()
        runs.append((a, b, opt))
    (a, b, opt), (ta, tb, topt) = runs
    assert_close(a, ta, rtol=1e-10, atol=1e-10)
    assert_close(b, tb, rtol=1e-10, atol=1e-10)
    assert opt.param_groups[1]["amsgrad"] is True and opt.param_groups[1]["betas"] == (0.9, 0.999)
    _assert_same_state(opt.state_dict(), topt.state_dict())


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_closure_is_evaluated_with_grad_and_returns_the_loss(name):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    w0 = rng.standard_normal(3)
    results = []
    for lib in (chainrule, torch):
        w = lib.tensor(w0.copy(), requires_grad=True)
        X, Y = lib.tensor(x), lib.tensor(y)
        opt = getattr(lib.optim, name)([w], lr=0.05, **({"momentum": 0.9} if name != "Adam" else {}))
        calls = []

        def closure():
            calls.append(lib.is_grad_enabled())
            opt.zero_grad()
            loss = ((X @ w - Y) ** 2).mean()
            loss.backward()
            return loss

        losses = []
        with lib.no_grad():
            for _ in range(STEPS):
                losses.append(opt.step(closure).item())
        assert calls == [True] * STEPS
        results.append((w, losses))
    (w, losses), (tw, tlosses) = results
    assert_close(w, tw, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(losses, tlosses, rtol=1e-10)
    assert losses[-1] < losses[0]


def test_step_without_gradients_changes_nothing():
    p = chainrule.tensor([1.0, 2.0], requires_grad=True)
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop):
        opt = cls([p], lr=0.1)
        assert opt.step() is None
        assert p.tolist() == [1.0, 2.0] and len(opt.state) == 0
    opt = optim.Adagrad([p])  # Adagrad's accumulators exist from the start, as in torch
    opt.step()
    assert p.tolist() == [1.0, 2.0] and opt.state[p]["step"].item() == 0.0


def test_step_updates_in_place_and_bumps_the_version():
    p = chainrule.tensor([1.0, 2.0], requires_grad=True)
    array = p._data
    opt = optim.SGD([p], lr=0.5, momentum=0.9)
    p.grad = chainrule.tensor([1.0, -1.0])
    before = p._version
    opt.step()
    opt.step()
    assert p._data is array
    assert p._version == before + 2
    assert p.grad.tolist() == [1.0, -1.0]  # the gradient itself is never modified
    q = chainrule.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([q], maximize=True, weight_decay=0.1)
    q.grad = chainrule.tensor([1.0, -1.0])
    opt.step()
    assert q.grad.tolist() == [1.0, -1.0]


def test_in_place_step_is_seen_by_the_graph():
    """A graph that saved the parameter before the step refuses to backward through it."""
    p = chainrule.tensor([1.0, 2.0], requires_grad=True)
    loss = (p * p).sum()
    p.grad = chainrule.tensor([1.0, 1.0])
    optim.SGD([p], lr=0.1).step()
    with pytest.raises(RuntimeError):
        loss.backward()


def test_zero_grad():
    p = chainrule.tensor([1.0, 2.0], requires_grad=True)
    q = chainrule.tensor([3.0], requires_grad=True)
    opt = optim.SGD([p, q], lr=0.1)
    p.grad = chainrule.tensor([5.0, 6.0])
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and p.grad.tolist() == [0.0, 0.0] and q.grad is None
    opt.zero_grad()
    assert p.grad is None


def test_zero_grad_detaches_a_grad_with_history():
    p = chainrule.tensor([1.0, 2.0], requires_grad=True)
    (grad,) = chainrule.autograd.grad((p ** 3).sum(), p, create_graph=True)
    p.grad = grad
    assert p.grad.grad_fn is not None
    optim.SGD([p]).zero_grad(set_to_none=False)
    assert p.grad.grad_fn is None and not p.grad.requires_grad and p.grad.tolist() == [0.0, 0.0]


def test_complex_parameters_match_torch():
    start = np.array([1 + 2j, -0.5 + 0.25j, 3 - 1j])
    results = []
    for lib in (chainrule, torch):
        p = lib.tensor(start.copy(), requires_grad=True)
        opt = lib.optim.Adam([p], lr=0.1, amsgrad=True)
        for t in range(10):
            p.grad = lib.tensor(np.exp(1j * t) * np.array([1.0, -2.0, 0.5]) + 0.1 * np.conj(start))
            opt.step()
        results.append(p)
    assert_close(results[0], results[1], rtol=1e-10, atol=1e-10)


def test_named_parameters_are_accepted():
    a = chainrule.tensor([1.0], requires_grad=True)
    b = chainrule.tensor([2.0], requires_grad=True)
    opt = optim.SGD([("a", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["a", "b"]
    assert opt.param_groups[0]["params"] == [a, b]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]
    with pytest.raises(ValueError, match="cannot add param group without names"):
        opt.add_param_group({"params": [chainrule.tensor([1.0], requires_grad=True)]})


def test_repr_matches_torch():
    p, tp = chainrule.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    for name in FULL:
        assert repr(getattr(optim, name)([p], lr=0.1)) == repr(getattr(torch.optim, name)([tp], lr=0.1))


def test_step_hooks():
    p = chainrule.tensor([1.0], dtype=chainrule.float64, requires_grad=True)
    p.grad = chainrule.tensor([1.0], dtype=chainrule.float64)
    opt = optim.SGD([p], lr=0.1)
    seen = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", p.item())))
    post = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", p.item())))
    global_pre = optim.optimizer.register_optimizer_step_pre_hook(lambda o, a, k: seen.append("global"))
    opt.step()
    pre.remove()
    post.remove()
    global_pre.remove()
    opt.step()
    assert seen == ["global", ("pre", 1.0), ("post", 0.9)]
    assert p.item() == 0.9 - 0.1


def test_deepcopy_and_pickle_keep_groups_and_state():
    import pickle

    p = chainrule.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = chainrule.tensor([1.0, 1.0])
    opt.step()
    for clone in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        assert clone.param_groups[0]["lr"] == 0.1
        (state,) = clone.state.values()
        assert state["step"].item() == 1.0
        np.testing.assert_array_equal(state["exp_avg"].data, opt.state[p]["exp_avg"].data)
        (q,) = clone.param_groups[0]["params"]
        assert q is not p and q.tolist() == p.tolist()
        q.grad = chainrule.tensor([1.0, 1.0])
        clone.step()  # the copy works on its own copies
        assert p.tolist() != q.tolist()
        assert clone.state[q]["step"].item() == 2.0 and opt.state[p]["step"].item() == 1.0


def test_custom_optimizer_with_required_option():
    class Plain(optim.Optimizer):
        def __init__(self, params, lr=optim.optimizer.required):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p.data -= group["lr"] * p.grad.data

    a = chainrule.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        Plain([a])
    opt = Plain([{"params": [a], "lr": 0.5}])
    a.grad = chainrule.tensor([1.0])
    opt.step()
    assert a.item() == 0.5


# -- errors: same type and message as torch -----------------------------------------------------
def _leaf(lib):
    return lib.tensor([1.0, 2.0], requires_grad=True)


ERRORS = {
    "sgd lr": lambda lib, p: lib.optim.SGD([p], lr=-1),
    "sgd momentum": lambda lib, p: lib.optim.SGD([p], momentum=-0.5),
    "sgd weight_decay": lambda lib, p: lib.optim.SGD([p], weight_decay=-1e-3),
    "sgd nesterov": lambda lib, p: lib.optim.SGD([p], nesterov=True),
    "sgd nesterov dampening": lambda lib, p: lib.optim.SGD([p], momentum=0.9, dampening=0.1, nesterov=True),
    "adam lr": lambda lib, p: lib.optim.Adam([p], lr=-0.1),
    "adam eps": lambda lib, p: lib.optim.Adam([p], eps=-1.0),
    "adam beta0": lambda lib, p: lib.optim.Adam([p], betas=(1.0, 0.999)),
    "adam beta1": lambda lib, p: lib.optim.Adam([p], betas=(0.9, -0.1)),
    "adam int beta": lambda lib, p: lib.optim.Adam([p], betas=(0, 0.999)),
    "adam weight_decay": lambda lib, p: lib.optim.Adam([p], weight_decay=-0.1),
    "adamw lr": lambda lib, p: lib.optim.AdamW([p], lr=-1),
    "rmsprop alpha": lambda lib, p: lib.optim.RMSprop([p], alpha=-0.1),
    "rmsprop momentum": lambda lib, p: lib.optim.RMSprop([p], momentum=-0.1),
    "rmsprop eps": lambda lib, p: lib.optim.RMSprop([p], eps=-0.1),
    "adagrad lr_decay": lambda lib, p: lib.optim.Adagrad([p], lr_decay=-0.1),
    "adagrad initial": lambda lib, p: lib.optim.Adagrad([p], initial_accumulator_value=-1),
    "adagrad eps": lambda lib, p: lib.optim.Adagrad([p], eps=-1),
    "empty": lambda lib, p: lib.optim.SGD([]),
    "a tensor": lambda lib, p: lib.optim.SGD(p),
    "non-leaf": lambda lib, p: lib.optim.SGD([p * 2]),
    "not a tensor": lambda lib, p: lib.optim.SGD([1.0]),
    "a set": lambda lib, p: lib.optim.SGD([{"params": {p}}]),
    "same param in two groups": lambda lib, p: lib.optim.SGD([{"params": [p]}, {"params": [p], "lr": 1.0}]),
    "add_param_group again": lambda lib, p: lib.optim.SGD([p]).add_param_group({"params": [p]}),
    "add_param_group not a dict": lambda lib, p: lib.optim.SGD([p]).add_param_group([p]),
    "load fewer groups": lambda lib, p: lib.optim.SGD([p]).load_state_dict({"state": {}, "param_groups": []}),
    "load other group size": lambda lib, p: lib.optim.SGD([p]).load_state_dict(
        {"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]}),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_torch(case):
    with pytest.raises(Exception) as theirs:
        ERRORS[case](torch, _leaf(torch))
    with pytest.raises(Exception) as ours:
        ERRORS[case](chainrule, _leaf(chainrule))
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value).replace("torch.", "chainrule.")


def test_duplicate_params_in_one_group_warn_like_torch():
    p = chainrule.tensor([1.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optim.SGD([p, p])
    assert any("duplicate parameters" in str(w.message) for w in caught)


def test_differentiable_is_refused():
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.Adam([_leaf(chainrule)], differentiable=True)


def test_checkpoint_through_save_and_load_resumes_exactly(tmp_path):
    kwargs = {"lr": LR["Adam"], **FULL["Adam"]}
    straight = Run(chainrule, "Adam", kwargs)
    for _ in range(STEPS):
        straight.step()
    first = Run(chainrule, "Adam", kwargs)
    for _ in range(STEPS // 2):
        first.step()
    path = tmp_path / "optim.safetensors"
    chainrule.save({"optimizer": first.opt.state_dict(), "params": [p.detach() for p in first.params]}, path)
    checkpoint = chainrule.load(path)
    resumed = Run(chainrule, "Adam", kwargs)
    resumed.t = first.t
    for p, saved in zip(resumed.params, checkpoint["params"]):
        p.data[...] = saved.data
    resumed.opt.load_state_dict(checkpoint["optimizer"])
    for _ in range(STEPS // 2):
        resumed.step()
    for a, b in zip(resumed.params, straight.params):
        np.testing.assert_array_equal(a.data, b.data)


def test_tensor_lr_with_a_scheduler_matches_torch():
    results = []
    for lib in (chainrule, torch):
        p = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.SGD([p], lr=lib.tensor(0.1, dtype=lib.float64), momentum=0.5)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        for t in range(10):
            p.grad = lib.tensor([0.3 * t, 1.0], dtype=lib.float64)
            opt.step()
            sched.step()
        assert isinstance(opt.param_groups[0]["lr"], lib.Tensor)
        results.append((p.detach().tolist(), float(opt.param_groups[0]["lr"])))
    assert results[0][1] == results[1][1]
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
