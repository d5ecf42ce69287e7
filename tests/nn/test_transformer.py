"""``nn.Transformer`` and its encoder/decoder stacks and layers against PyTorch 2.13 (float64,
the same weights): outputs, input and parameter gradients over norm_first, activations,
layer_norm_eps, bias, batch_first and masks (causal included); state_dicts both ways; the
eval-mode (fused, nested-tensor) numbers; initialisation and errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
import chainrule.nn.functional as F
from conftest import assert_close

pytestmark = pytest.mark.filterwarnings(  # PyTorch's own notes, which chainrule repeats where it has them
    "ignore:enable_nested_tensor is True:UserWarning", "ignore:Support for mismatched:UserWarning",
    "ignore:The PyTorch API of nested tensors:UserWarning")

D, HEADS, FF = 8, 2, 12
SRC, TGT, N = 5, 4, 3


def load_torch_weights(c_module, t_module, seed=1):
    """Random weights (biases and norms too) in the torch module, copied into chainrule's."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in t_module.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.4))
    c_module.load_state_dict({k: v.detach().numpy() for k, v in t_module.state_dict().items()})


def make(lib, kind, **options):
    nn_ = lib.nn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's nested-tensor note for non-batch-first encoders
        if kind == "encoder_layer":
            return nn_.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, **options)
        if kind == "decoder_layer":
            return nn_.TransformerDecoderLayer(D, HEADS, FF, dropout=0.0, **options)
        if kind == "encoder":
            layer = nn_.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, **options)
            return nn_.TransformerEncoder(layer, 2, nn_.LayerNorm(D))
        if kind == "decoder":
            layer = nn_.TransformerDecoderLayer(D, HEADS, FF, dropout=0.0, **options)
            return nn_.TransformerDecoder(layer, 2, nn_.LayerNorm(D))
        return nn_.Transformer(D, HEADS, 2, 2, FF, dropout=0.0, **options)


def twin(kind, **options):
    t_options = dict(options)
    c_options = dict(options)
    if options.get("activation") == "callable":  # the same function, written for each library
        t_options["activation"] = lambda x: torch.tanh(x) * x
        c_options["activation"] = lambda x: chainrule.tanh(x) * x
    t_module = make(torch, kind, **t_options).double()
    c_module = make(chainrule, kind, **c_options).double()
    load_torch_weights(c_module, t_module)
    return c_module, t_module


def run(c_module, t_module, arrays, masks=None, seed=0, **forward):
    """Forward both; compare outputs, then input and parameter gradients."""
    c_in = [chainrule.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    masks = masks or {}
    out_c = c_module(*c_in, **{k: chainrule.tensor(v) for k, v in masks.items()}, **forward)
    out_t = t_module(*t_in, **{k: torch.tensor(v) for k, v in masks.items()}, **forward)
    assert_close(out_c, out_t, what="output")
    g = np.random.default_rng(seed).standard_normal(tuple(out_t.shape))
    out_c.backward(chainrule.tensor(g))
    out_t.backward(torch.tensor(g))
    for i, (c, t) in enumerate(zip(c_in, t_in)):
        assert_close(c.grad, t.grad, what=f"gradient of input {i}")
    t_params = dict(t_module.named_parameters())
    for name, p in c_module.named_parameters():
        assert_close(p.grad, t_params[name].grad, what=f"gradient of {name}")


RNG = np.random.default_rng(0)


def sequences(length, batch_first, batched=True):
    x = RNG.standard_normal((length, N, D))
    if not batched:
        return x[:, 0]
    return np.ascontiguousarray(x.transpose(1, 0, 2)) if batch_first else x


def causal(n):
    return np.triu(np.full((n, n), -np.inf), 1)


def right_padding(length):
    mask = np.zeros((N, length), bool)
    mask[1, -2:] = True
    mask[2, -1:] = True
    return mask


OPTIONS = [
    ("post-norm-relu", {}),
    ("norm-first-gelu", {"norm_first": True, "activation": "gelu"}),
    ("callable-eps", {"activation": "callable", "layer_norm_eps": 1e-3}),
    ("no-bias", {"bias": False}),
]


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
@pytest.mark.parametrize("name,options", OPTIONS, ids=[o[0] for o in OPTIONS])
def test_encoder_layer(name, options, batch_first):
    c_module, t_module = twin("encoder_layer", batch_first=batch_first, **options)
    masks = {"src_mask": causal(SRC), "src_key_padding_mask": right_padding(SRC)}
    run(c_module, t_module, [sequences(SRC, batch_first)], masks)


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
@pytest.mark.parametrize("name,options", OPTIONS, ids=[o[0] for o in OPTIONS])
def test_decoder_layer(name, options, batch_first):
    c_module, t_module = twin("decoder_layer", batch_first=batch_first, **options)
    masks = {"tgt_mask": causal(TGT), "memory_key_padding_mask": right_padding(SRC),
             "tgt_key_padding_mask": right_padding(TGT)}
    run(c_module, t_module, [sequences(TGT, batch_first), sequences(SRC, batch_first)], masks)


def test_activation_modules_are_accepted():
    for lib_nn, expected in ((nn, 2), (torch.nn, 2)):
        assert lib_nn.TransformerEncoderLayer(D, HEADS, activation=lib_nn.GELU()).activation_relu_or_gelu == expected
    assert nn.TransformerEncoderLayer(D, HEADS).activation_relu_or_gelu == 1
    assert nn.TransformerEncoderLayer(D, HEADS, activation=lambda x: x).activation_relu_or_gelu == 0
    c_module = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, activation=nn.GELU()).double()
    t_module = torch.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, activation=torch.nn.GELU()).double()
    load_torch_weights(c_module, t_module)
    run(c_module, t_module, [sequences(SRC, False)])


@pytest.mark.parametrize("masks", ["none", "causal-mask", "causal-hint", "bool-masks"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder(masks, norm_first):
    c_module, t_module = twin("encoder", batch_first=True, norm_first=norm_first)
    given, forward = {}, {}
    if masks == "causal-mask":
        given = {"mask": causal(SRC)}
    elif masks == "causal-hint":
        given, forward = {"mask": causal(SRC)}, {"is_causal": True}
    elif masks == "bool-masks":
        given = {"mask": np.triu(np.ones((SRC, SRC), bool), 1), "src_key_padding_mask": right_padding(SRC)}
    run(c_module, t_module, [sequences(SRC, True)], given, **forward)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder(norm_first):
    c_module, t_module = twin("decoder", norm_first=norm_first)
    masks = {"tgt_mask": causal(TGT), "memory_mask": RNG.standard_normal((TGT, SRC)),
             "tgt_key_padding_mask": RNG.standard_normal((N, TGT)),
             "memory_key_padding_mask": RNG.standard_normal((N, SRC))}
    run(c_module, t_module, [sequences(TGT, False), sequences(SRC, False)], masks)


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
@pytest.mark.parametrize("name,options", OPTIONS, ids=[o[0] for o in OPTIONS])
def test_transformer(name, options, batch_first):
    c_module, t_module = twin("transformer", batch_first=batch_first, **options)
    masks = {"tgt_mask": chainrule.nn.Transformer.generate_square_subsequent_mask(TGT).double().numpy(),
             "src_key_padding_mask": right_padding(SRC), "memory_key_padding_mask": right_padding(SRC)}
    run(c_module, t_module, [sequences(SRC, batch_first), sequences(TGT, batch_first)], masks)


def test_unbatched_transformer():
    c_module, t_module = twin("transformer", batch_first=True)
    run(c_module, t_module, [sequences(SRC, True, batched=False), sequences(TGT, True, batched=False)],
        {"tgt_mask": causal(TGT)})


def test_dropout_in_training_is_chainrules_own_and_off_in_eval():
    module = nn.Transformer(D, HEADS, 1, 1, FF, dropout=0.5).double()
    src, tgt = chainrule.tensor(sequences(SRC, False)), chainrule.tensor(sequences(TGT, False))
    chainrule.manual_seed(0)
    first = module(src, tgt).detach().numpy()
    chainrule.manual_seed(0)
    again = module(src, tgt).detach().numpy()
    module.eval()
    evaluated = module(src, tgt).detach().numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, evaluated)


@pytest.mark.parametrize("padding", ["right", "left"])
def test_eval_without_grad_gives_pytorchs_fused_numbers(padding):
    c_module, t_module = twin("encoder", batch_first=True)
    c_module.eval(), t_module.eval()
    kpm = right_padding(SRC) if padding == "right" else right_padding(SRC)[:, ::-1].copy()
    x = sequences(SRC, True)
    with chainrule.no_grad(), torch.no_grad():
        out_c = c_module(chainrule.tensor(x), src_key_padding_mask=chainrule.tensor(kpm))
        out_t = t_module(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
    assert_close(out_c, out_t)
    if padding == "right":  # PyTorch's nested tensors: zeros at the padding, before the final norm
        bias = t_module.norm.bias.detach().numpy()
        assert_close(out_c[1, -2:], np.broadcast_to(bias, (2, D)))


def test_state_dicts_interchange_both_ways():
    c_module, t_module = twin("transformer", norm_first=True)
    assert list(c_module.state_dict()) == list(t_module.state_dict())
    fresh = nn.Transformer(D, HEADS, 2, 2, FF, dropout=0.0, norm_first=True).double()
    back = torch.nn.Transformer(D, HEADS, 2, 2, FF, dropout=0.0, norm_first=True).double()
    back.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in fresh.state_dict().items()})
    src, tgt = sequences(SRC, False), sequences(TGT, False)
    out_c = fresh(chainrule.tensor(src), chainrule.tensor(tgt))
    out_t = back(torch.tensor(src), torch.tensor(tgt))
    assert_close(out_c, out_t)


def test_initialisation_and_repr_match_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c_module = nn.Transformer(16, 4, 1, 1, 32)
        t_module = torch.nn.Transformer(16, 4, 1, 1, 32)
    assert repr(c_module) == repr(t_module)
    assert [(n, tuple(p.shape)) for n, p in c_module.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t_module.named_parameters()]
    w = c_module.encoder.layers[0].linear1.weight.detach().numpy()  # xavier_uniform_ over (32, 16)
    bound = np.sqrt(6.0 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    layer = nn.TransformerEncoderLayer(16, 4, 32)  # Linear's own default: U(-1/sqrt(16), 1/sqrt(16))
    assert np.abs(layer.linear1.weight.detach().numpy()).max() <= 0.25


def test_square_subsequent_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    assert_close(mask, torch.nn.Transformer.generate_square_subsequent_mask(4))
    assert mask.dtype == chainrule.float32
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=chainrule.float64).dtype == chainrule.float64


def test_encoder_warns_about_nested_tensors_as_pytorch():
    layer = nn.TransformerEncoderLayer(D, HEADS)
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested_tensor is False "
                                         "because encoder_layer.self_attn.batch_first was not True"):
        nn.TransformerEncoder(layer, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        nn.TransformerEncoder(nn.TransformerEncoderLayer(D, HEADS, batch_first=True), 1)


def test_layers_are_independent_copies():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, HEADS, batch_first=True), 3)
    weights = [layer.linear1.weight for layer in encoder.layers]
    assert len({id(w) for w in weights}) == 3
    np.testing.assert_array_equal(weights[0].detach().numpy(), weights[2].detach().numpy())


def test_errors_match_pytorch():
    model = nn.Transformer(D, HEADS, 1, 1, FF)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(chainrule.zeros(SRC, 2, D), chainrule.zeros(TGT, 3, D))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(chainrule.zeros(SRC, 2, D), chainrule.zeros(TGT, 2, D + 1))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(D, HEADS, activation="tanh")
    assert F.relu is nn.TransformerDecoderLayer(D, HEADS).activation


def test_custom_encoder_and_decoder_replace_the_stacks():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0), 1)
    decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, HEADS, FF, dropout=0.0), 1)
    model = nn.Transformer(D, HEADS, custom_encoder=encoder, custom_decoder=decoder).double()
    assert model.encoder is encoder and model.decoder is decoder
    src, tgt = chainrule.tensor(sequences(SRC, False)), chainrule.tensor(sequences(TGT, False))
    assert_close(model(src, tgt), decoder(tgt, encoder(src)))


def test_causal_masks_are_detected_as_pytorch_does():
    from chainrule.nn.transformer import _detect_is_causal_mask

    mask = nn.Transformer.generate_square_subsequent_mask(4)
    assert _detect_is_causal_mask(mask) is True
    assert _detect_is_causal_mask(mask, is_causal=False) is False
    assert _detect_is_causal_mask(mask, size=5) is False
    assert _detect_is_causal_mask(chainrule.zeros(4, 4)) is False
    assert _detect_is_causal_mask(None, is_causal=True) is True
