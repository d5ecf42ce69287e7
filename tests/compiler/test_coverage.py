"""Which layers and losses a plan captures: each below, compiled with fullgraph=True and called
five times on varying inputs, gets a plan and gives eager's outputs, input and parameter
gradients and buffers bit for bit.  (Those that run eagerly on purpose are listed at the end,
with why.)"""
from __future__ import annotations

import copy

import numpy as np
import pytest

import chainrule
from chainrule import nn


def _normal(*shape):
    return lambda call: chainrule.tensor(np.random.default_rng(call).standard_normal(shape).astype(np.float32))


def _classes(high, *shape):
    return lambda call: chainrule.tensor(np.random.default_rng(call).integers(0, high, shape))


def _then(make, fn):
    return lambda call: fn(make(call))


LAYERS = {
    "Bilinear": (lambda: nn.Bilinear(3, 4, 2), [_normal(2, 3), _normal(2, 4)]),
    "Conv1d": (lambda: nn.Conv1d(2, 3, 3, padding=1), [_normal(2, 2, 7)]),
    "Conv2d strided dilated": (lambda: nn.Conv2d(2, 3, 3, stride=2, dilation=2, padding=2), [_normal(1, 2, 9, 9)]),
    "Conv2d groups": (lambda: nn.Conv2d(4, 4, 3, groups=2), [_normal(1, 4, 6, 6)]),
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(2, 3, 3, stride=2), [_normal(1, 2, 5)]),
    "MaxPool2d ceil": (lambda: nn.MaxPool2d(3, 2, ceil_mode=True), [_normal(1, 2, 8, 8)]),
    "AvgPool2d padded": (lambda: nn.AvgPool2d(3, 2, padding=1, count_include_pad=False), [_normal(1, 2, 7, 7)]),
    "AdaptiveMaxPool1d": (lambda: nn.AdaptiveMaxPool1d(3), [_normal(2, 3, 8)]),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(4), [_normal(5, 4)]),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), [_normal(2, 4, 3)]),
    "RMSNorm": (lambda: nn.RMSNorm(4), [_normal(2, 4)]),
    "InstanceNorm1d with statistics": (lambda: nn.InstanceNorm1d(3, track_running_stats=True), [_normal(2, 3, 5)]),
    "Dropout2d": (lambda: nn.Dropout2d(0.3), [_normal(2, 3, 4, 4)]),
    "Embedding padding_idx": (lambda: nn.Embedding(10, 3, padding_idx=0), [_classes(10, 2, 4)]),
    "activations": (lambda: nn.Sequential(nn.PReLU(), nn.ELU(), nn.SELU(), nn.Mish(), nn.Hardswish(), nn.Softplus(2, 1),
                                          nn.Threshold(0.1, -1.0), nn.Softshrink(), nn.LogSigmoid()), [_normal(2, 4)]),
    "GLU and Softmin": (lambda: nn.Sequential(nn.GLU(), nn.Softmin(1)), [_normal(2, 4)]),
    "padding": (lambda: nn.Sequential(nn.ReflectionPad2d(1), nn.CircularPad2d(1), nn.ZeroPad2d((1, 0, 2, 1))),
                [_normal(1, 2, 3, 3)]),
    "Upsample bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), [_normal(1, 2, 3, 3)]),
    "PixelShuffle and Unfold": (lambda: nn.Sequential(nn.PixelShuffle(2), nn.Unfold(2)), [_normal(1, 8, 2, 2)]),
    "distances": (lambda: nn.CosineSimilarity(), [_normal(3, 4), _normal(3, 4)]),
    "GRUCell": (lambda: nn.GRUCell(3, 4), [_normal(2, 3)]),
    "LSTMCell": (lambda: nn.LSTMCell(3, 4), [_normal(2, 3)]),
    "Transformer with dropout": (lambda: nn.Transformer(8, 2, 1, 1, 16, dropout=0.1, batch_first=True),
                                 [_normal(2, 4, 8), _normal(2, 3, 8)]),
    "MultiheadAttention kdim vdim": (lambda: nn.MultiheadAttention(8, 2, kdim=6, vdim=5),
                                     [_normal(3, 2, 8), _normal(4, 2, 6), _normal(4, 2, 5)]),
    "CrossEntropyLoss smoothing": (lambda: nn.CrossEntropyLoss(label_smoothing=0.1), [_normal(4, 5), _classes(5, 4)]),
    "CrossEntropyLoss probabilities": (lambda: nn.CrossEntropyLoss(),
                                       [_normal(4, 5), _then(_normal(4, 5), lambda t: t.softmax(-1))]),
    "NLLLoss weighted": (lambda: nn.NLLLoss(weight=chainrule.tensor([1.0, 2.0, 3.0])),
                         [_then(_normal(4, 3), lambda t: t.log_softmax(-1)), _classes(3, 4)]),
    "BCEWithLogitsLoss pos_weight": (lambda: nn.BCEWithLogitsLoss(pos_weight=chainrule.tensor([2.0])),
                                     [_normal(4, 1), _then(_normal(4, 1), lambda t: (t > 0).float())]),
    "KLDivLoss log_target": (lambda: nn.KLDivLoss(reduction="batchmean", log_target=True), [_normal(4, 3), _normal(4, 3)]),
    "RReLU, AlphaDropout, Softmax2d": (lambda: nn.Sequential(nn.RReLU(), nn.AlphaDropout(0.2), nn.Softmax2d()),
                                       [_normal(2, 3, 2, 2)]),
    "LocalResponseNorm, ChannelShuffle, LPPool2d": (
        lambda: nn.Sequential(nn.LocalResponseNorm(3), nn.ChannelShuffle(2), nn.LPPool2d(2, 2)), [_normal(2, 4, 4, 4)]),
    "EmbeddingBag rows": (lambda: nn.EmbeddingBag(10, 3, mode="max", padding_idx=0), [_classes(10, 2, 4)]),
    "TripletMarginLoss swap": (lambda: nn.TripletMarginLoss(swap=True), [_normal(4, 3), _normal(4, 3), _normal(4, 3)]),
    "MultiMarginLoss weighted": (lambda: nn.MultiMarginLoss(p=2, weight=chainrule.tensor([1.0, 2.0, 0.5])),
                                 [_normal(4, 3), _classes(3, 4)]),
    "Conv3d and 3-D pools": (lambda: nn.Sequential(nn.Conv3d(2, 3, 3, padding=1), nn.MaxPool3d(2),
                                                   nn.AvgPool3d(2, ceil_mode=True)), [_normal(1, 2, 4, 4, 4)]),
    "weight norm parametrization": (lambda: nn.utils.parametrizations.weight_norm(nn.Conv1d(2, 3, 3)),
                                    [_normal(2, 2, 6)]),
    "CosineEmbeddingLoss": (lambda: nn.CosineEmbeddingLoss(0.2),
                            [_normal(4, 3), _normal(4, 3), _then(_normal(4), lambda t: (t > 0).float() * 2 - 1)]),
}


def _steps(model, fn, inputs):
    results = []
    for call in range(5):
        chainrule.manual_seed(100 + call)
        xs = [make(call + 10 * k) for k, make in enumerate(inputs)]
        for x in xs:
            if x.is_floating_point():
                x.requires_grad_(True)
        model.zero_grad()
        out = fn(*xs)
        out = out[0] if isinstance(out, tuple) else out
        if out.requires_grad:
            out.square().sum().backward()
        results.append([out.detach().numpy().tobytes()]
                       + [None if x.grad is None else x.grad.numpy().tobytes() for x in xs]
                       + [None if p.grad is None else p.grad.numpy().tobytes() for p in model.parameters()]
                       + [b.numpy().tobytes() for b in model.buffers()])
    return results


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_the_layer_is_planned_and_gives_eagers_numbers(name):
    make, inputs = LAYERS[name]
    chainrule.manual_seed(0)
    eager = make()
    traced = copy.deepcopy(eager)
    compiled = chainrule.compile(traced, fullgraph=True)
    assert _steps(traced, compiled, inputs) == _steps(eager, eager, inputs)
    assert compiled._region.last_plan is not None


def test_what_runs_eagerly_on_purpose_still_gives_eagers_numbers():
    """Embedding(max_norm=...) renormalises the weight rows the indices pick, in place and
    outside the ops; boolean-mask indexing makes a shape that depends on the values;
    GaussianNLLLoss checks in Python that no variance is negative (so does PyTorch's); spectral
    normalisation's power iteration writes region values into buffers (its vectors)."""
    for make, inputs in ((lambda: nn.Embedding(10, 3, max_norm=1.0), [_classes(10, 2, 4)]),
                         (lambda: nn.Sequential(nn.Linear(4, 4), _Positive()), [_normal(3, 4)]),
                         (lambda: nn.GaussianNLLLoss(),
                          [_normal(4, 3), _normal(4, 3), _then(_normal(4, 1), lambda t: t.exp())]),
                         (lambda: nn.utils.parametrizations.spectral_norm(nn.Linear(3, 4)), [_normal(2, 3)])):
        chainrule.manual_seed(0)
        eager = make()
        traced = copy.deepcopy(eager)
        compiled = chainrule.compile(traced)
        chainrule.compiler.reset()  # (warnings are once per reason and process)
        with pytest.warns(UserWarning, match="chainrule.compile"):
            got = _steps(traced, compiled, inputs)
        assert got == _steps(eager, eager, inputs)
        assert compiled._region.last_plan is None


class _Positive(nn.Module):
    def forward(self, x):
        return x[x > 0].sum().reshape(1)
