"""``nn.MultiheadAttention`` against PyTorch 2.13 (float64, the same weights): outputs,
attention weights, input and parameter gradients over the module's options and masks;
state_dicts both ways; errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
import chainrule.nn.functional as F
from conftest import assert_close

E, HEADS, L, S, N = 8, 2, 4, 5, 3


def twin(**options):
    """(chainrule, torch) MultiheadAttention, float64, with torch's weights (random biases,
    so that zero-initialised ones do not hide a missing term)."""
    t_module = torch.nn.MultiheadAttention(E, HEADS, **options).double()
    rng = np.random.default_rng(1)
    with torch.no_grad():
        for p in t_module.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.5))
    c_module = nn.MultiheadAttention(E, HEADS, **options).double()
    c_module.load_state_dict({k: v.detach().numpy() for k, v in t_module.state_dict().items()})
    return c_module, t_module


def _tensors(arrays, lib, grad):
    return [None if a is None else lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]


def compare(c_module, t_module, query, key, value, masks=None, seed=0, **forward):
    """Forward both on the same inputs (masks: key_padding_mask, attn_mask arrays); compare
    outputs and weights, then the gradients of inputs and parameters for random upstream
    gradients of both outputs."""
    masks = masks or {}
    same_kv = key is value
    same_qk = query is key
    arrays = [query, key, value]
    c_in, t_in = _tensors(arrays, chainrule, True), _tensors(arrays, torch, True)
    if same_qk:  # self-attention passes one tensor three times (PyTorch's packed path)
        c_in, t_in = [c_in[0]] * 3, [t_in[0]] * 3
    elif same_kv:
        c_in[2], t_in[2] = c_in[1], t_in[1]
    c_masks = {k: chainrule.tensor(v) for k, v in masks.items()}
    t_masks = {k: torch.tensor(v) for k, v in masks.items()}
    out_c, w_c = c_module(*c_in, **c_masks, **forward)
    out_t, w_t = t_module(*t_in, **t_masks, **forward)
    assert_close(out_c, out_t, what="output")
    if w_t is None:
        assert w_c is None
    else:
        assert_close(w_c, w_t, what="weights")
    rng = np.random.default_rng(seed)
    g_out = rng.standard_normal(tuple(out_t.shape))
    loss_c = (out_c * chainrule.tensor(g_out)).sum()
    loss_t = (out_t * torch.tensor(g_out)).sum()
    if w_t is not None:
        g_w = rng.standard_normal(tuple(w_t.shape))
        loss_c = loss_c + (w_c * chainrule.tensor(g_w)).sum()
        loss_t = loss_t + (w_t * torch.tensor(g_w)).sum()
    loss_t.backward()
    loss_c.backward()
    for i, (c, t) in enumerate(zip(c_in, t_in)):
        assert_close(c.grad, t.grad, what=f"gradient of input {i}")
    t_params = dict(t_module.named_parameters())
    for name, p in c_module.named_parameters():
        assert_close(p.grad, t_params[name].grad, what=f"gradient of {name}")
    return out_c, out_t


RNG = np.random.default_rng(0)
X = RNG.standard_normal((L, N, E))
KEY = RNG.standard_normal((S, N, E))
VALUE = RNG.standard_normal((S, N, E))


def padding(shape=(N, S)):
    mask = RNG.random(shape) < 0.3
    mask[..., 0] = False  # every query keeps at least one key
    return mask


def blocked(shape):
    mask = RNG.random(shape) < 0.3
    mask[..., 0] = False
    return mask


CASES = [
    ("self", {}, "self", {}, {}),
    ("cross", {}, "cross", {}, {}),
    ("cross-same-kv", {}, "cross-kv", {}, {}),
    ("no-weights", {}, "self", {}, {"need_weights": False}),
    ("per-head-weights", {}, "cross", {}, {"average_attn_weights": False}),
    ("no-bias", {"bias": False}, "self", {}, {}),
    ("bias-kv", {"add_bias_kv": True}, "cross", {}, {}),
    ("zero-attn", {"add_zero_attn": True}, "cross", {}, {}),
    ("bias-kv-zero-attn-masks", {"add_bias_kv": True, "add_zero_attn": True}, "cross",
     {"key_padding_mask": padding(), "attn_mask": blocked((L, S))}, {}),
    ("bias-kv-no-weights", {"add_bias_kv": True, "add_zero_attn": True}, "cross",
     {"key_padding_mask": padding(), "attn_mask": blocked((L, S))}, {"need_weights": False}),
    ("kdim-vdim", {"kdim": 6, "vdim": 3}, "kdim", {}, {}),
    ("kdim-vdim-no-weights", {"kdim": 6, "vdim": 3}, "kdim", {}, {"need_weights": False}),
    ("padding-bool", {}, "cross", {"key_padding_mask": padding()}, {}),
    ("padding-bool-no-weights", {}, "cross", {"key_padding_mask": padding()}, {"need_weights": False}),
    ("padding-float", {}, "cross", {"key_padding_mask": RNG.standard_normal((N, S))}, {}),
    ("mask-bool-2d", {}, "cross", {"attn_mask": blocked((L, S))}, {}),
    ("mask-float-2d", {}, "cross", {"attn_mask": RNG.standard_normal((L, S))}, {"need_weights": False}),
    ("mask-bool-3d", {}, "cross", {"attn_mask": blocked((N * HEADS, L, S))}, {"need_weights": False}),
    ("mask-float-3d", {}, "cross", {"attn_mask": RNG.standard_normal((N * HEADS, L, S))}, {}),
    ("both-masks", {}, "cross", {"attn_mask": RNG.standard_normal((L, S)),
                                 "key_padding_mask": RNG.standard_normal((N, S))}, {"need_weights": False}),
    ("causal-hint", {}, "self", {"attn_mask": np.triu(np.full((L, L), -np.inf), 1)},
     {"is_causal": True, "need_weights": False}),
    ("causal-hint-weights", {}, "self", {"attn_mask": np.triu(np.ones((L, L), bool), 1)}, {"is_causal": True}),
    ("causal-hint-padding", {}, "self", {"attn_mask": np.triu(np.ones((L, L), bool), 1),
                                         "key_padding_mask": padding((N, L))},
     {"is_causal": True, "need_weights": False}),
]


def _inputs(kind, batch_first):
    query = X
    key, value = {"self": (X, X), "cross": (KEY, VALUE), "cross-kv": (KEY, KEY),
                  "kdim": (KEY[..., :6], VALUE[..., :3])}[kind]
    if batch_first:
        query, key, value = (np.ascontiguousarray(a.transpose(1, 0, 2)) for a in (query, key, value))
        if kind == "self":
            key = value = query
        if kind == "cross-kv":
            value = key
    if kind == "self":
        return query, query, query
    if kind == "cross-kv":
        return query, key, key
    return query, key, value


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
@pytest.mark.parametrize("name,options,kind,masks,forward", CASES, ids=[c[0] for c in CASES])
def test_against_pytorch(name, options, kind, masks, forward, batch_first):
    c_module, t_module = twin(batch_first=batch_first, **options)
    query, key, value = _inputs(kind, batch_first)
    compare(c_module, t_module, query, key, value, masks, **forward)


@pytest.mark.parametrize("forward", [{}, {"need_weights": False}, {"average_attn_weights": False}])
def test_unbatched(forward):
    c_module, t_module = twin(batch_first=True)
    masks = {"key_padding_mask": padding((S,)), "attn_mask": blocked((HEADS, L, S))}
    compare(c_module, t_module, X[:, 0], KEY[:, 0], VALUE[:, 0], masks, **forward)


@pytest.mark.parametrize("need_weights", [True, False])
def test_eval_mode_without_grad_matches_pytorchs_fused_path(need_weights):
    c_module, t_module = twin(batch_first=True, dropout=0.3)
    c_module.eval(), t_module.eval()
    x = np.ascontiguousarray(X.transpose(1, 0, 2))
    kpm = padding((N, L))
    with chainrule.no_grad(), torch.no_grad():
        out_c, w_c = c_module(*[chainrule.tensor(x)] * 3, key_padding_mask=chainrule.tensor(kpm),
                              need_weights=need_weights)
        out_t, w_t = t_module(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm), need_weights=need_weights)
    assert_close(out_c, out_t, what="output")
    if need_weights:
        assert_close(w_c, w_t, what="weights")


@pytest.mark.parametrize("need_weights", [True, False])
def test_dropout_of_every_weight_leaves_the_output_bias(need_weights):
    c_module, t_module = twin(dropout=1.0)
    out_c, out_t = compare(c_module, t_module, X, KEY, VALUE, need_weights=need_weights)
    assert_close(out_c, np.broadcast_to(t_module.out_proj.bias.detach().numpy(), (L, N, E)))


def test_dropout_is_drawn_from_chainrules_generator():
    c_module, _ = twin(dropout=0.5)
    x = chainrule.tensor(X)
    chainrule.manual_seed(3)
    first = c_module(x, x, x, need_weights=False)[0]
    chainrule.manual_seed(3)
    again = c_module(x, x, x, need_weights=False)[0]
    c_module.eval()
    plain = c_module(x, x, x, need_weights=False)[0]
    assert_close(first, again)
    assert not np.allclose(first.detach().numpy(), plain.detach().numpy())


def test_parameters_initialisation_and_repr_match_pytorch():
    for options in ({}, {"kdim": 6, "vdim": 3, "bias": False, "add_bias_kv": True}):
        c_module = nn.MultiheadAttention(E, HEADS, **options)
        t_module = torch.nn.MultiheadAttention(E, HEADS, **options)
        assert [(n, tuple(p.shape)) for n, p in c_module.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in t_module.named_parameters()]
        assert list(c_module.state_dict()) == list(t_module.state_dict())
        assert repr(c_module) == repr(t_module)
    module = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    bound = np.sqrt(6.0 / (64 + 3 * 64))  # xavier_uniform_ over the (3E, E) packed weight
    w = module.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not module.in_proj_bias.detach().numpy().any() and not module.out_proj.bias.detach().numpy().any()
    assert module.bias_k.detach().numpy().std() > 0


def test_state_dict_from_chainrule_loads_into_pytorch():
    c_module = nn.MultiheadAttention(E, HEADS, kdim=6, vdim=3, add_bias_kv=True).double()
    t_module = torch.nn.MultiheadAttention(E, HEADS, kdim=6, vdim=3, add_bias_kv=True).double()
    t_module.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in c_module.state_dict().items()})
    query, key, value = X, KEY[..., :6], VALUE[..., :3]
    out_c = c_module(*(chainrule.tensor(a) for a in (query, key, value)))[0]
    out_t = t_module(*(torch.tensor(a) for a in (query, key, value)))[0]
    assert_close(out_c, out_t)


def test_functional_form_matches_pytorch():
    c_module, t_module = twin()
    args = lambda m: (E, HEADS, m.in_proj_weight, m.in_proj_bias, None, None, False, 0.0, m.out_proj.weight,
                      m.out_proj.bias)
    kpm = padding()
    out_c, w_c = F.multi_head_attention_forward(chainrule.tensor(X), chainrule.tensor(KEY), chainrule.tensor(VALUE),
                                                *args(c_module), key_padding_mask=chainrule.tensor(kpm))
    out_t, w_t = torch.nn.functional.multi_head_attention_forward(
        torch.tensor(X), torch.tensor(KEY), torch.tensor(VALUE), *args(t_module), key_padding_mask=torch.tensor(kpm))
    assert_close(out_c, out_t)
    assert_close(w_c, w_t)


def test_mismatched_mask_types_warn_as_in_pytorch():
    c_module, _ = twin()
    x = chainrule.tensor(X)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        c_module(x, x, x, key_padding_mask=chainrule.tensor(padding((N, L))),
                 attn_mask=chainrule.tensor(RNG.standard_normal((L, L))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c_module(x, x, x, key_padding_mask=chainrule.tensor(padding((N, L))))


def test_errors_match_pytorch():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 1)
    c_module, _ = twin()
    x = chainrule.tensor(X)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        c_module(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is .*\[3, 3\]\), but should be \(4, 4\)"):
        c_module(x, x, x, attn_mask=chainrule.zeros(3, 3, dtype=chainrule.float64))
    with pytest.raises(AssertionError, match="only bool and floating types of key_padding_mask are supported"):
        c_module(x, x, x, key_padding_mask=chainrule.zeros(N, L, dtype=chainrule.int64))
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D tensor"):
        c_module(x[None], x[None], x[None])
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8, but got 5"):
        y = chainrule.tensor(X[..., :5])
        c_module(y, y, y)


@pytest.mark.parametrize("need_weights", [True, False])
def test_second_derivatives(need_weights):
    module = nn.MultiheadAttention(4, 2, batch_first=True).double()
    x = chainrule.tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=chainrule.float64)

    def fn(a):
        return module(a, a, a, need_weights=need_weights, attn_mask=mask, is_causal=True)[0]

    assert chainrule.autograd.gradcheck(fn, (x,))
    assert chainrule.autograd.gradgradcheck(fn, (x,))


def test_functional_static_keys_and_values():
    c_module, t_module = twin()
    static_k, static_v = RNG.standard_normal((N * HEADS, S, E // HEADS)), RNG.standard_normal((N * HEADS, S, E // HEADS))

    def run(lib, fn, m):
        x = lib.tensor(X, requires_grad=True)
        out, weights = fn(x, x, x, E, HEADS, m.in_proj_weight, m.in_proj_bias, None, None, False, 0.0,
                          m.out_proj.weight, m.out_proj.bias, static_k=lib.tensor(static_k),
                          static_v=lib.tensor(static_v))
        (out.sum() + weights.sum()).backward()
        return out, weights, x.grad

    ours = run(chainrule, F.multi_head_attention_forward, c_module)
    theirs = run(torch, torch.nn.functional.multi_head_attention_forward, t_module)
    for a, b in zip(ours, theirs):
        assert_close(a, b)
