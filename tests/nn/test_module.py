"""Module bookkeeping against PyTorch: registration, iteration, state_dict keys and loading,
modes, dtype conversion, hooks and printing."""
from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from conftest import assert_close
from nn_twins import twin


def build(lib_nn):
    """A small network with nesting, a buffer, a non-persistent buffer and a shared layer."""
    class Block(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib_nn.Linear(3, 3)
            self.norm = lib_nn.BatchNorm1d(3)
            self.register_buffer("unset", None)

        def forward(self, x):
            return self.norm(self.fc(x)).relu()

    class Net(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = lib_nn.Sequential(lib_nn.Linear(3, 4), lib_nn.Tanh(), lib_nn.Linear(4, 2))
            self.tied = self.head[0]
            self.scale = lib_nn.Parameter(torch.ones(1) if lib_nn is torch.nn else chainrule.ones(1))
            self.register_buffer("offset", torch.zeros(2) if lib_nn is torch.nn else chainrule.zeros(2))
            self.register_buffer("cache", torch.zeros(2) if lib_nn is torch.nn else chainrule.zeros(2),
                                 persistent=False)

        def forward(self, x):
            return self.head(self.block(x)) * self.scale + self.offset

    return Net()


def names(pairs):
    return [name for name, _ in pairs]


def test_iteration_matches_torch():
    c, t = build(nn), build(torch.nn)
    assert names(c.named_parameters()) == names(t.named_parameters())
    assert names(c.named_parameters(remove_duplicate=False)) == names(t.named_parameters(remove_duplicate=False))
    assert names(c.named_parameters(prefix="model")) == names(t.named_parameters(prefix="model"))
    assert names(c.named_parameters(recurse=False)) == names(t.named_parameters(recurse=False)) == ["scale"]
    assert names(c.named_buffers()) == names(t.named_buffers())
    assert names(c.named_children()) == names(t.named_children())
    assert names(c.named_modules()) == names(t.named_modules())
    assert names(c.named_modules(remove_duplicate=False)) == names(t.named_modules(remove_duplicate=False))
    assert len(list(c.parameters())) == len(list(t.parameters()))
    assert len(list(c.buffers())) == len(list(t.buffers()))
    assert len(list(c.modules())) == len(list(t.modules()))
    assert [type(m).__name__ for m in c.children()] == [type(m).__name__ for m in t.children()]


def test_state_dict_keys_match_torch_and_share_storage():
    c, t = build(nn), build(torch.nn)
    assert list(c.state_dict()) == list(t.state_dict())
    state = c.state_dict()
    assert not state["scale"].requires_grad
    state["scale"].data[0] = 5.0
    assert c.scale.item() == 5.0
    assert c.state_dict(keep_vars=True)["scale"] is c.scale
    assert "cache" not in state and "cache" in dict(c.named_buffers())


def test_load_state_dict_from_torch_gives_torch_numbers():
    c, t = build(nn).double(), build(torch.nn).double()
    result = c.load_state_dict(t.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(0).standard_normal((5, 3))
    assert_close(c(chainrule.tensor(x)), t(torch.tensor(x)))


def test_load_state_dict_strict_errors_read_like_torch():
    c, t = build(nn), build(torch.nn)
    state_c = OrderedDict((k, v.clone()) for k, v in c.state_dict().items())
    state_t = OrderedDict((k, v.clone()) for k, v in t.state_dict().items())
    for state in (state_c, state_t):
        del state["head.2.bias"]
        del state["offset"]
        state["head.9.weight"] = state["scale"]
        state["extra"] = state["scale"]
    state_c["head.0.weight"] = chainrule.zeros(5, 3)
    state_t["head.0.weight"] = torch.zeros(5, 3)
    with pytest.raises(RuntimeError) as error_t:
        t.load_state_dict(state_t)
    with pytest.raises(RuntimeError) as error_c:
        c.load_state_dict(state_c)
    message = str(error_c.value)
    assert message == str(error_t.value).replace("torch.Size", "chainrule.Size")
    assert message.startswith("Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: ")
    assert "Unexpected key(s)" in message and "size mismatch for head.0.weight" in message


def test_load_state_dict_non_strict_reports_keys():
    c, t = build(nn), build(torch.nn)
    state_c = {k: v for k, v in c.state_dict().items() if k != "scale"}
    state_c["bogus"] = chainrule.zeros(1)
    state_t = {k: v for k, v in t.state_dict().items() if k != "scale"}
    state_t["bogus"] = torch.zeros(1)
    result_c = c.load_state_dict(state_c, strict=False)
    result_t = t.load_state_dict(state_t, strict=False)
    assert result_c == result_t
    assert repr(result_c) == repr(result_t)
    with pytest.raises(RuntimeError, match="size mismatch for scale"):
        c.load_state_dict({"scale": chainrule.zeros(3)}, strict=False)


def test_load_state_dict_type_errors():
    c = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        c.load_state_dict([1, 2])
    with pytest.raises(RuntimeError, match='While copying the parameter named "weight"'):
        c.load_state_dict({"weight": "nope", "bias": chainrule.zeros(2)})


def test_load_state_dict_without_num_batches_tracked():
    bn = nn.BatchNorm1d(3)
    state = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    assert repr(bn.load_state_dict(state)) == "<All keys matched successfully>"


def test_train_eval_and_requires_grad():
    c = build(nn)
    assert c.training and c.block.norm.training
    assert c.eval() is c
    assert not c.training and not c.block.norm.training and not c.head[1].training
    c.train()
    assert c.head[1].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        c.train("yes")
    c.requires_grad_(False)
    assert not any(p.requires_grad for p in c.parameters())


def test_zero_grad():
    c = build(nn)
    c(chainrule.randn(4, 3)).sum().backward()
    grads = [p.grad for p in c.parameters()]
    assert all(g is not None for g in grads)
    c.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.numpy().any() for p, g in zip(c.parameters(), grads))
    c.zero_grad()
    assert all(p.grad is None for p in c.parameters())


def test_dtype_conversion_keeps_parameter_objects():
    c = build(nn)
    weight = c.head[0].weight
    c.double()
    assert c.head[0].weight is weight and weight.dtype == chainrule.float64
    assert c.block.norm.running_mean.dtype == chainrule.float64
    assert c.block.norm.num_batches_tracked.dtype == chainrule.int64
    assert c.to(chainrule.float32) is c and weight.dtype == chainrule.float32
    c.to(dtype=chainrule.float64)
    assert weight.dtype == chainrule.float64
    assert c.to("cpu") is c
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        c.to(chainrule.int64)
    out = c(chainrule.randn(2, 3).double())
    assert out.dtype == chainrule.float64
    c.float()
    assert weight.dtype == chainrule.float32


def test_apply_visits_children_first():
    c, t = build(nn), build(torch.nn)
    seen_c, seen_t = [], []
    c.apply(lambda m: seen_c.append(type(m).__name__))
    t.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen_c == seen_t


def test_apply_for_custom_init():
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    model.apply(init)
    assert not model[0].weight.detach().numpy().any()


def test_registration_and_attribute_errors():
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(chainrule.ones(2)))
    m.register_buffer("b", chainrule.zeros(2))
    m.add_module("child", nn.Linear(2, 2))
    m.register_module("other", nn.ReLU())
    assert m.w is m._parameters["w"] and m.b is m._buffers["b"] and isinstance(m.child, nn.Linear)
    assert isinstance(m.other, nn.ReLU)
    assert "w" in dir(m) and "child" in dir(m)
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        m.missing
    with pytest.raises(KeyError, match="attribute 'w' already exists"):
        m.register_buffer("w", chainrule.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="cannot assign"):
        m.register_parameter("x", chainrule.ones(1))
    with pytest.raises(TypeError, match="as parameter 'w'"):
        m.w = chainrule.ones(2)
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("bad", 3)
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor"):
        m.register_parameter("y", _non_leaf_parameter())
    m.w = None
    assert m.w is None and "w" in m._parameters
    m.b = chainrule.ones(2)
    assert m._buffers["b"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="as buffer 'b'"):
        m.b = 3
    del m.child
    assert "child" not in m._modules
    m.plain = 3
    assert m.plain == 3 and "plain" not in m._parameters


def _non_leaf_parameter():
    p = nn.Parameter(chainrule.ones(1))
    q = nn.Parameter(chainrule.ones(1))
    q.grad_fn = (p * 2).grad_fn
    return q


def test_assignment_moves_between_registries():
    m = nn.Module()
    m.x = nn.Linear(1, 1)
    m.x = nn.Parameter(chainrule.ones(1))
    assert "x" not in m._modules and "x" in m._parameters
    m.y = nn.Buffer(chainrule.zeros(3), persistent=False)
    assert "y" in m._buffers and "y" not in m.state_dict()
    assert type(m.y) is chainrule.Tensor


def test_setattr_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(chainrule.ones(1))

    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__\\(\\) call"):
        Bad()


def test_get_submodule_and_parameter():
    c = build(nn)
    assert c.get_submodule("head.2") is c.head[2]
    assert c.get_submodule("") is c
    assert c.get_parameter("head.0.bias") is c.head[0].bias
    assert c.get_buffer("block.norm.running_mean") is c.block.norm.running_mean
    with pytest.raises(AttributeError, match="Sequential has no attribute `7`"):
        c.get_submodule("head.7")
    with pytest.raises(AttributeError, match="`scale` is not an nn.Module"):
        c.get_submodule("scale.x")
    with pytest.raises(AttributeError, match="`offset` is not an nn.Parameter"):
        c.get_parameter("offset")


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_set_submodule(lib):
    m = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Sequential(lib.nn.ReLU()))
    m.set_submodule("1.0", lib.nn.Tanh())
    m.set_submodule("1.extra", lib.nn.Identity())
    m.set_submodule("0", lib.nn.Linear(3, 4), strict=True)
    assert [type(c).__name__ for c in m.modules()] == ["Sequential", "Linear", "Sequential", "Tanh", "Identity"]
    assert m[0].out_features == 4
    m.weight_like = lib.zeros(1)
    for target, module, strict, error, message in [
            ("", lib.nn.ReLU(), False, ValueError, "Cannot set the submodule without a target name!"),
            ("0", "relu", False, ValueError, "`module` is not an nn.Module, found <class 'str'>"),
            ("1.new", lib.nn.ReLU(), True, AttributeError, "Sequential has no attribute `new`"),
            ("7.x", lib.nn.ReLU(), False, AttributeError, "Sequential has no attribute `7`"),
            ("weight_like", lib.nn.ReLU(), False, AttributeError, "`weight_like` is not an nn.Module")]:
        with pytest.raises(error, match=f"^{re.escape(message)}$"):
            m.set_submodule(target, module, strict=strict)


def test_forward_missing():
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(1)


def test_repr_matches_torch():
    c, t = build(nn), build(torch.nn)
    assert repr(c) == repr(t)
    for make in (lambda nn: nn.Linear(2, 3), lambda nn: nn.ReLU(), lambda nn: nn.BatchNorm1d(4),
                 lambda nn: nn.LayerNorm((3, 4)), lambda nn: nn.Embedding(10, 3, padding_idx=0),
                 lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Dropout())),
                 lambda nn: nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()]),
                 lambda nn: nn.ModuleDict({"a": nn.GELU(), "b": nn.Softmax(dim=1)}),
                 lambda nn: nn.GroupNorm(2, 4), lambda nn: nn.Flatten(), lambda nn: nn.Identity()):
        assert repr(make(nn)) == repr(make(torch.nn))
    assert repr(nn.Linear(2, 3)) == "Linear(in_features=2, out_features=3, bias=True)"


def test_custom_extra_repr():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(1, 1)

        def extra_repr(self):
            return "factor=2"

    assert repr(Scale()) == "Scale(\n  factor=2\n  (inner): Linear(in_features=1, out_features=1, bias=True)\n)"


def test_parameter_basics():
    data = chainrule.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert p.requires_grad and isinstance(p, chainrule.Tensor) and p.is_leaf
    assert p._data is data._data
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert type(p * 2) is chainrule.Tensor
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(chainrule.tensor([1, 2]))


def test_parameter_data_assignment_keeps_an_array():
    p = nn.Parameter(chainrule.ones(3))
    p.grad = chainrule.full((3,), 2.0)
    with chainrule.no_grad():
        p.data -= 0.5 * p.grad
    assert type(p._data) is np.ndarray and p.tolist() == [0.0, 0.0, 0.0]
    p.data = chainrule.tensor([1.0, 2.0])
    assert type(p._data) is np.ndarray and p.shape == (2,)


def test_parameter_pickles():
    import pickle

    p = nn.Parameter(chainrule.tensor([1.0, 2.0]))
    q = pickle.loads(pickle.dumps(p))
    assert isinstance(q, nn.Parameter) and q.tolist() == [1.0, 2.0] and q.requires_grad


# -- hooks ---------------------------------------------------------------------------------


def test_forward_hooks():
    model = nn.Linear(2, 2)
    calls = []
    pre = model.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = model.register_forward_hook(lambda m, args, out: calls.append((m, args[0].tolist())) or out + 1)
    out = model(chainrule.ones(1, 2))
    np.testing.assert_allclose(out.detach().numpy(), model.bias.detach().numpy()[None] + 1, rtol=1e-6)
    assert calls == [(model, [[0.0, 0.0]])]
    pre.remove()
    post.remove()
    assert not model._forward_hooks and not model._forward_pre_hooks
    model(chainrule.ones(1, 2))
    assert len(calls) == 1


def test_forward_hook_with_kwargs_prepend_and_context_manager():
    model = nn.Identity()
    order = []
    model.register_forward_hook(lambda m, a, o: order.append("first"))
    with model.register_forward_hook(lambda m, a, o: order.append("prepended"), prepend=True):
        model(chainrule.ones(1))
    assert order == ["prepended", "first"]
    model.register_forward_pre_hook(lambda m, args, kwargs: (args, {}), with_kwargs=True)
    seen = []
    model.register_forward_hook(lambda m, args, kwargs, out: seen.append(kwargs), with_kwargs=True)
    model(chainrule.ones(1))
    assert seen == [{}]


def _hook_run(lib, x_np, w_np, replace):
    """A module with a full backward hook (and pre-hook) in the middle of a graph."""
    records = {}

    def hook(module, grad_input, grad_output):
        records["grad_input"] = [None if g is None else g.detach().numpy().copy() for g in grad_input]
        records["grad_output"] = [g.detach().numpy().copy() for g in grad_output]
        if replace:
            return tuple(None if g is None else g * 2 for g in grad_input)

    def pre_hook(module, grad_output):
        records["pre"] = [g.detach().numpy().copy() for g in grad_output]

    layer = lib.nn.Linear(3, 2).double()
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(w_np))
        layer.bias.zero_()
    layer.register_full_backward_hook(hook)
    layer.register_full_backward_pre_hook(pre_hook)
    x = lib.tensor(x_np, requires_grad=True)
    h = x * 3
    out = (layer(h) ** 2).sum()
    out.backward()
    return records, x.grad, layer.weight.grad


@pytest.mark.parametrize("replace", [False, True])
def test_full_backward_hook_matches_torch(replace):
    rng = np.random.default_rng(2)
    x_np, w_np = rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    rec_c, gx_c, gw_c = _hook_run(chainrule, x_np, w_np, replace)
    rec_t, gx_t, gw_t = _hook_run(torch, x_np, w_np, replace)
    for key in ("grad_input", "grad_output", "pre"):
        assert len(rec_c[key]) == len(rec_t[key])
        for a, b in zip(rec_c[key], rec_t[key]):
            assert_close(a, b)
    assert_close(gx_c, gx_t)
    assert_close(gw_c, gw_t)


def test_full_backward_hook_when_no_input_requires_grad():
    seen = []
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go[0].shape)))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        layer(chainrule.randn(4, 3)).sum().backward()
    assert seen == [((None,), chainrule.Size([4, 2]))]
    assert layer.weight.grad is not None


def test_full_backward_hook_with_two_inputs_and_a_constant():
    class Mix(nn.Module):
        def forward(self, a, scale, b):
            return a * scale + b

    seen = []
    mix = Mix()
    mix.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    a = chainrule.randn(3, requires_grad=True)
    b = chainrule.randn(3)
    mix(a, 2.0, b).sum().backward()
    (grad_input,) = seen
    assert len(grad_input) == 3 and grad_input[1] is None and grad_input[2] is None
    assert grad_input[0].tolist() == [2.0, 2.0, 2.0]
    assert a.grad.tolist() == [2.0, 2.0, 2.0]


def test_hooks_on_sequential_children():
    twin_c, twin_t = twin(lambda nn: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)))
    shapes_c, shapes_t = [], []
    for model, shapes in ((twin_c, shapes_c), (twin_t, shapes_t)):
        for layer in model:
            layer.register_forward_hook(lambda m, a, o, s=shapes: s.append(tuple(o.shape)))
            layer.register_full_backward_hook(lambda m, gi, go, s=shapes: s.append(("grad", tuple(go[0].shape))))
    x = np.random.default_rng(1).standard_normal((2, 3))
    twin_c(chainrule.tensor(x, requires_grad=True)).sum().backward()
    twin_t(torch.tensor(x, requires_grad=True)).sum().backward()
    assert shapes_c == shapes_t


# -- training end to end ---------------------------------------------------------------------


def _training_losses(lib, model, x_np, y_np, steps, lr):
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    losses = []
    for _ in range(steps):
        loss = lib.nn.functional.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        with lib.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses


def test_sgd_training_reaches_torchs_loss():
    """A small classifier trained with a hand-written SGD loop from the same initial weights
    follows PyTorch's loss curve step by step."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4))
    y = (x @ rng.standard_normal((4, 3))).argmax(1)
    c, t = twin(lambda nn: nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.0), nn.Linear(16, 3)))
    losses_c = _training_losses(chainrule, c, x, y, 40, 0.5)
    losses_t = _training_losses(torch, t, x, y, 40, 0.5)
    np.testing.assert_allclose(losses_c, losses_t, rtol=1e-9, atol=1e-12)
    assert losses_c[-1] < 0.5 * losses_c[0]
    for pc, pt in zip(c.parameters(), t.parameters()):
        assert_close(pc, pt)


def test_training_with_batchnorm_and_data_updates():
    """The same, through BatchNorm (train mode, running statistics), with PyTorch's
    ``p.data -= lr * p.grad`` update."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 5))
    y = (x[:, 0] > 0).astype(np.int64)
    make = lambda nn: nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Linear(8, 2))  # noqa: E731
    c, t = twin(make)
    for _ in range(10):
        for lib, model in ((chainrule, c), (torch, t)):
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            model.zero_grad()
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p.data -= 0.3 * p.grad
    for (name, vc), vt in zip(c.state_dict().items(), t.state_dict().values()):
        assert_close(vc, vt, what=name)
    c.eval()
    t.eval()
    assert_close(c(chainrule.tensor(x)), t(torch.tensor(x)))


def test_module_share_memory_shares_parameters_and_buffers():
    model = chainrule.nn.Sequential(chainrule.nn.Linear(2, 3), chainrule.nn.BatchNorm1d(3))
    weight = model[0].weight
    assert model.share_memory() is model
    assert model[0].weight is weight and all(p.is_shared() for p in model.parameters())
    assert all(b.is_shared() for b in model.buffers())


def _state_dict_hooks_and_extra_state(lib) -> list:
    """What PyTorch's state-dict machinery shows: extra state saved and restored, the four
    kinds of hook, their arguments and order, and their errors."""
    nn, seen = lib.nn, []

    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.counter = 3

        def get_extra_state(self):
            return {"counter": self.counter}

        def set_extra_state(self, state):
            self.counter = state["counter"]

    saved = WithExtra().state_dict()
    seen += [list(saved), saved["_extra_state"]]
    fresh = WithExtra()
    fresh.counter = 0
    seen += [str(fresh.load_state_dict(saved)), fresh.counter]
    without = {k: v for k, v in saved.items() if k != "_extra_state"}
    for load in (lambda: fresh.load_state_dict(without),
                 lambda: nn.Linear(2, 2).load_state_dict({"weight": lib.ones(2, 2), "bias": lib.ones(2), "_extra_state": 1})):
        with pytest.raises(RuntimeError) as raised:
            load()
        seen.append(str(raised.value).splitlines()[1])
    seen.append(str(fresh.load_state_dict(without, strict=False)))

    lin, calls = nn.Linear(2, 2), []

    def post(module, state, prefix, metadata):
        calls.append(("post", prefix, sorted(state), metadata["version"]))
        state[prefix + "added"] = lib.zeros(1)

    handles = [lin.register_state_dict_pre_hook(lambda module, prefix, keep_vars: calls.append((prefix, keep_vars))),
               lin.register_state_dict_post_hook(post)]
    seen += [sorted(nn.Sequential(lin).state_dict()), calls]
    for handle in handles:
        handle.remove()
    seen.append(sorted(nn.Sequential(lin).state_dict()))
    lin.register_state_dict_post_hook(lambda *args: {})
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        lin.state_dict()
    older = nn.Linear(2, 2)
    older._register_state_dict_hook(lambda module, state, prefix, metadata: {k.upper(): v for k, v in state.items()})
    seen.append(list(older.state_dict()))

    renamed = nn.Linear(2, 2)

    def rename(module, state, prefix, metadata, strict, missing, unexpected, errors):
        if prefix + "w" in state:
            state[prefix + "weight"] = state.pop(prefix + "w")

    renamed.register_load_state_dict_pre_hook(rename)
    seen += [str(nn.Sequential(renamed).load_state_dict({"0.w": lib.ones(2, 2), "0.bias": lib.zeros(2)})),
             renamed.weight.tolist()]
    return seen


def test_state_dict_hooks_and_extra_state_as_in_pytorch():
    assert _state_dict_hooks_and_extra_state(chainrule) == _state_dict_hooks_and_extra_state(torch)


def test_to_empty_keeps_the_parameters_their_shapes_and_dtypes():
    for lib in (torch, chainrule):
        model = lib.nn.Linear(3, 2).double()
        weight = model.weight
        assert model.to_empty(device="cpu") is model
        assert model.weight is weight and tuple(weight.shape) == (2, 3) and weight.dtype == lib.float64
        assert weight.requires_grad


def _older_backward_hook_run(lib) -> list:
    """Grad-CAM's pattern with the deprecated ``register_backward_hook``: the hook sees the
    gradients of the last op of the module's forward (a convolution's input, weight, bias)."""
    lib.manual_seed(0)
    conv, seen = lib.nn.Conv2d(2, 3, 3), []
    conv.register_backward_hook(lambda module, grad_input, grad_output: seen.append(
        ([None if g is None else tuple(g.shape) for g in grad_input], [tuple(g.shape) for g in grad_output],
         grad_output[0].sum().item())))
    relu = lib.nn.ReLU()
    relu.register_backward_hook(lambda module, grad_input, grad_output: seen.append(
        (grad_input[0].tolist(), grad_output[0].tolist())))
    with pytest.warns(FutureWarning, match="non-full backward hook when the forward contains multiple autograd"):
        (conv(lib.ones(1, 2, 5, 5, requires_grad=True)) * 2).sum().backward()
        relu(lib.tensor([-1.0, 2.0], requires_grad=True)).sum().backward()
    full = lib.nn.ReLU()
    full.register_full_backward_hook(lambda *args: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
        full.register_backward_hook(lambda *args: None)
    return seen


def test_the_older_register_backward_hook_as_in_pytorch():
    ours, theirs = _older_backward_hook_run(chainrule), _older_backward_hook_run(torch)
    assert ours == theirs
