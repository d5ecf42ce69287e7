"""The nn layers, their functional forms and the losses on the stand-in device
(``tests/device_standin.py``): a module moved with ``.cuda()`` keeps its Parameter objects, and
its outputs and gradients equal the CPU's bit for bit, with nothing leaving the device."""
from __future__ import annotations

import numpy as np
import pytest

import test_activations as activations
import test_attention as attention
import test_conv_modules as conv_modules
import test_padding_prelu as padding
from device_parity import check_module_on_device, check_on_device

RNG = np.random.default_rng(17)


def normal(*shape):
    return np.asarray(RNG.standard_normal(shape))


@pytest.mark.parametrize("name,fn", activations.FUNCTIONAL, ids=[n for n, _ in activations.FUNCTIONAL])
def test_activations(name, fn):
    check_on_device(lambda L, x: fn(L.nn.functional, x), activations.values(3, 4))


@pytest.mark.parametrize("name,args,kwargs", activations.MODULES, ids=[m[0] for m in activations.MODULES])
def test_activation_modules(name, args, kwargs):
    check_module_on_device(lambda nn: getattr(nn, name)(*args, **kwargs), activations.values(2, 6))


@pytest.mark.parametrize("make", conv_modules.MODULES)
def test_convolutions(make):
    module = make(__import__("chainrule").nn)
    check_module_on_device(make, conv_modules._input(module, RNG))


@pytest.mark.parametrize("make", conv_modules.POOLING)
def test_pooling_and_upsampling(make):
    name = type(make(__import__("chainrule").nn)).__name__
    check_module_on_device(make, normal(*((2, 3, 11) if name.endswith("1d") else (2, 3, 7, 8))))


@pytest.mark.parametrize("make,shape", padding.MODULES)
def test_padding_and_prelu(make, shape):
    check_module_on_device(make, normal(*shape))


LAYERS = [
    (lambda nn: nn.Linear(4, 3), (2, 4)),
    (lambda nn: nn.Bilinear(4, 2, 3), (5, 4), (5, 2)),
    (lambda nn: nn.LayerNorm(4), (2, 3, 4)),
    (lambda nn: nn.GroupNorm(2, 4), (2, 4, 3, 3)),
    (lambda nn: nn.BatchNorm1d(4), (5, 4)),
    (lambda nn: nn.BatchNorm2d(3).eval(), (2, 3, 4, 4)),
    (lambda nn: nn.BatchNorm2d(3), (2, 3, 4, 4)),
    (lambda nn: nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.ReLU(), nn.Linear(5, 2)), (3, 3, 4)),
    (lambda nn: nn.MultiheadAttention(8, 2, batch_first=True), (2, 5, 8), (2, 5, 8), (2, 5, 8)),
    (lambda nn: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True), (2, 5, 8)),
    (lambda nn: nn.CosineSimilarity(dim=1), (3, 4), (3, 4)),
    (lambda nn: nn.PairwiseDistance(), (3, 4), (3, 4)),
]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: type(layer[0](__import__("chainrule").nn)).__name__)
def test_layers(layer):
    make, *shapes = layer
    check_module_on_device(make, *[normal(*shape) for shape in shapes])


def test_embedding():
    check_module_on_device(lambda nn: nn.Embedding(7, 3, padding_idx=0), np.array([[1, 0, 6], [2, 2, 5]]))


@pytest.mark.parametrize("name,kwargs", attention.CASES, ids=[c[0] for c in attention.CASES])
def test_scaled_dot_product_attention(name, kwargs):
    def call(L, q, k, v):
        extra = dict(kwargs)
        if "attn_mask" in extra:
            extra["attn_mask"] = L.tensor(extra["attn_mask"])
        return L.nn.functional.scaled_dot_product_attention(q, k, v, **extra)

    keys = 4 if name == "causal" else 6
    check_on_device(call, normal(2, 3, 4, 5), normal(2, 3, keys, 5), normal(2, 3, keys, 2))


LABELS = np.array([0, 2, 1, 2])
LOSSES = [
    ("mse", lambda L, x, y: L.nn.functional.mse_loss(x, y)),
    ("l1-sum", lambda L, x, y: L.nn.functional.l1_loss(x, y, reduction="sum")),
    ("smooth_l1", lambda L, x, y: L.nn.functional.smooth_l1_loss(x, y, beta=0.5)),
    ("huber-none", lambda L, x, y: L.nn.functional.huber_loss(x, y, reduction="none", delta=0.3)),
    ("cross_entropy", lambda L, x, y: L.nn.functional.cross_entropy(x, L.tensor(LABELS))),
    ("cross_entropy-weight-smoothing", lambda L, x, y: L.nn.functional.cross_entropy(
        x, L.tensor(LABELS), weight=L.tensor([0.2, 1.0, 3.0], dtype=L.float64), label_smoothing=0.1)),
    ("cross_entropy-ignore", lambda L, x, y: L.nn.functional.cross_entropy(x, L.tensor([0, -100, 1, 2]))),
    ("cross_entropy-probabilities", lambda L, x, y: L.nn.functional.cross_entropy(x, y.softmax(1))),
    ("nll", lambda L, x, y: L.nn.functional.nll_loss(x.log_softmax(1), L.tensor(LABELS), reduction="sum")),
    ("bce", lambda L, x, y: L.nn.functional.binary_cross_entropy(x.sigmoid(), y.sigmoid())),
    ("bce_with_logits", lambda L, x, y: L.nn.functional.binary_cross_entropy_with_logits(
        x, y.sigmoid(), pos_weight=L.tensor([1.0, 2.0, 0.5], dtype=L.float64))),
    ("kl_div", lambda L, x, y: L.nn.functional.kl_div(x.log_softmax(1), y.softmax(1), reduction="batchmean")),
    ("one_hot", lambda L, x, y: L.nn.functional.one_hot(L.tensor(LABELS), 3) * x),
    ("pad-reflect", lambda L, x, y: L.nn.functional.pad(x[None], (1, 2), mode="reflect")),
    ("normalize", lambda L, x, y: L.nn.functional.normalize(x, dim=1)),
]


@pytest.mark.parametrize("name,fn", LOSSES, ids=[n for n, _ in LOSSES])
def test_losses_and_functions(name, fn):
    check_on_device(fn, normal(4, 3), normal(4, 3))


CTC_TARGETS = np.array([[1, 2, 2], [3, 1, 0]])
NEWER = [
    ("conv3d", lambda L, x, w: L.nn.functional.conv3d(x, w, stride=(2, 1, 1), padding=1), (2, 4, 3, 3, 3),
     (2, 4, 2, 3, 2)),
    ("avg_pool3d", lambda L, x: L.nn.functional.avg_pool3d(x, 2, 1, 1, count_include_pad=False), (2, 3, 4, 4, 3)),
    ("conv_transpose3d", lambda L, x, w: L.nn.functional.conv_transpose3d(x, w, stride=(2, 1, 1), padding=1),
     (2, 4, 3, 3, 3), (4, 2, 2, 3, 2)),
    ("max_pool3d-indices", lambda L, x: L.nn.functional.max_pool3d(x, 2, 1, return_indices=True), (2, 3, 4, 4, 3)),
    ("max_unpool3d", lambda L, x: L.nn.functional.max_unpool3d(*L.nn.functional.max_pool3d(x, 2, return_indices=True),
                                                               2), (2, 3, 4, 4, 4)),
    ("adaptive_avg_pool3d", lambda L, x: L.nn.functional.adaptive_avg_pool3d(x, (2, 3, 2)), (2, 3, 4, 5, 3)),
    ("adaptive_max_pool3d", lambda L, x: L.nn.functional.adaptive_max_pool3d(x, 2, True), (2, 3, 4, 5, 3)),
    ("lp_pool3d", lambda L, x: L.nn.functional.lp_pool3d(x.abs() + 0.1, 2.0, 2), (2, 3, 4, 4, 4)),
    ("instance_norm-3d", lambda L, x: L.nn.functional.instance_norm(x), (2, 3, 2, 3, 2)),
    ("multilabel_margin_loss", lambda L, x: L.nn.functional.multilabel_margin_loss(
        x, L.tensor([[2, 0, -1], [1, -1, 0], [0, 1, 2], [-1, 0, 0]])), (4, 3)),
    ("ctc_loss", lambda L, x: L.nn.functional.ctc_loss(x.log_softmax(2), L.tensor(CTC_TARGETS), [6, 5], [3, 2]),
     (6, 2, 4)),
]


@pytest.mark.parametrize("case", NEWER, ids=[n for n, *_ in NEWER])
def test_3d_layers_and_newer_losses(case):
    _, fn, *shapes = case
    check_on_device(fn, *[normal(*shape) for shape in shapes])
