"""Convolution, pooling, upsampling and channel-dropout modules against PyTorch: default
initialisation, state_dict keys, repr, forward/backward with torch's weights; the norm
layers a CNN uses (BatchNorm2d, GroupNorm) on conv outputs; and the ``cnn`` model."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from conftest import assert_close
from nn_twins import run_both, twin

MODULES = [
    lambda m: m.Conv2d(1, 8, 3),
    lambda m: m.Conv2d(4, 6, (3, 2), stride=2, padding=1, bias=False),
    lambda m: m.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2),
    lambda m: m.Conv2d(4, 4, 2, padding="same", padding_mode="reflect"),
    lambda m: m.Conv2d(4, 6, 3, padding=(1, 2), padding_mode="replicate"),
    lambda m: m.Conv2d(4, 6, 3, padding=1, padding_mode="circular", groups=4 // 2),
    lambda m: m.Conv2d(4, 2, 3, padding="valid"),
    lambda m: m.Conv1d(4, 6, 3, stride=2, padding=1),
    lambda m: m.Conv1d(4, 6, 4, padding="same", padding_mode="reflect", groups=2),
    lambda m: m.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1),
    lambda m: m.ConvTranspose2d(4, 6, (2, 3), stride=(1, 2), groups=2, dilation=2, bias=False),
    lambda m: m.ConvTranspose1d(4, 2, 3, stride=3, padding=1, output_padding=2),
    lambda m: m.ConvTranspose3d(4, 6, (2, 3, 2), stride=(2, 1, 2), padding=1, output_padding=(1, 0, 0), groups=2),
]


def _input(module, rng):
    shape = {"1d": (2, 4, 11), "2d": (2, 4, 7, 8), "3d": (2, 4, 3, 4, 3)}[type(module).__name__[-2:]]
    if type(module).__name__ == "Conv2d" and module.in_channels == 1:
        shape = (2, 1, 7, 8)
    return rng.standard_normal(shape)


@pytest.mark.parametrize("make", MODULES)
def test_conv_modules_match_torch(make, rng):
    c_module, t_module = twin(make)
    assert repr(c_module) == repr(t_module)
    assert list(c_module.state_dict()) == list(t_module.state_dict())
    run_both(c_module, t_module, _input(c_module, rng))


@pytest.mark.parametrize("make", MODULES)
def test_conv_modules_default_init_matches_torch_bounds(make):
    chainrule.manual_seed(0)
    module = make(nn)
    reference = make(torch.nn)
    assert module.weight.shape == tuple(reference.weight.shape)
    assert module.weight.dtype == chainrule.float32
    fan_in = reference.weight.shape[1] * math.prod(reference.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and the bias: U(-1/sqrt(fan_in), ...)
    assert np.abs(module.weight.detach().numpy()).max() <= bound
    if reference.bias is not None:
        assert np.abs(module.bias.detach().numpy()).max() <= bound
    else:
        assert module.bias is None


def test_conv2d_default_init_statistics():
    chainrule.manual_seed(0)
    conv = nn.Conv2d(64, 128, 3)  # 73,728 weights
    w = conv.weight.detach().numpy().astype(np.float64)
    bound = 1 / math.sqrt(64 * 9)
    assert abs(w.mean()) < 4 * bound / math.sqrt(3 * w.size)
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 0.02
    assert w.min() > -bound and w.max() < bound and w.max() > 0.99 * bound
    b = conv.bias.detach().numpy()
    assert np.abs(b).max() < bound and b.std() > 0.3 * bound
    t_conv = torch.nn.Conv2d(64, 128, 3)
    t_w = t_conv.weight.detach().numpy()
    assert abs(w.std() / t_w.std() - 1) < 0.03


def test_conv_transpose_output_size_argument(rng):
    c_module, t_module = twin(lambda m: m.ConvTranspose2d(3, 2, 3, stride=2, padding=1))
    x = rng.standard_normal((1, 3, 4, 5))
    for size in ((7, 9), (8, 10), [1, 2, 8, 9]):
        out_c = c_module(chainrule.tensor(x), output_size=size)
        out_t = t_module(torch.tensor(x), output_size=size)
        assert_close(out_c, out_t)
    with pytest.raises(ValueError, match=r"requested an output size of \[11, 9\], but valid sizes range from \[7, 9\] to \[8, 10\]"):
        c_module(chainrule.tensor(x), output_size=(11, 9))


def test_conv_module_errors_match_torch():
    for kwargs, message in ((dict(groups=2), "in_channels must be divisible by groups"),
                            (dict(groups=0), "groups must be a positive integer"),
                            (dict(padding="same", stride=2), "padding='same' is not supported for strided"),
                            (dict(padding_mode="mirror"), "padding_mode must be one of")):
        with pytest.raises(ValueError):
            torch.nn.Conv2d(3, 4, 3, **kwargs)
        with pytest.raises(ValueError, match=message):
            nn.Conv2d(3, 4, 3, **kwargs)
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


POOLING = [
    lambda m: m.MaxPool2d(2),
    lambda m: m.MaxPool2d(3, stride=2, padding=1, dilation=1, ceil_mode=True),
    lambda m: m.MaxPool2d((2, 3), stride=(1, 2), dilation=(2, 1)),
    lambda m: m.MaxPool1d(3, stride=2, padding=1),
    lambda m: m.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    lambda m: m.AvgPool2d((2, 3), divisor_override=4),
    lambda m: m.AvgPool1d(3, stride=2),
    lambda m: m.AdaptiveAvgPool2d((3, None)),
    lambda m: m.AdaptiveAvgPool2d(1),
    lambda m: m.AdaptiveAvgPool1d(4),
    lambda m: m.Upsample(scale_factor=2),
    lambda m: m.Upsample(size=(5, 11), mode="bilinear", align_corners=True),
    lambda m: m.Upsample(scale_factor=(1.5, 2), mode="bilinear"),
    lambda m: m.UpsamplingNearest2d(scale_factor=3),
    lambda m: m.UpsamplingBilinear2d(size=6),
    lambda m: m.Unfold((2, 3), dilation=1, padding=1, stride=2),
]


@pytest.mark.parametrize("make", POOLING)
def test_pooling_and_upsampling_modules_match_torch(make, rng):
    c_module, t_module = make(nn), make(torch.nn)
    assert repr(c_module) == repr(t_module)
    name = type(c_module).__name__
    shape = (2, 3, 11) if name.endswith("1d") else (2, 3, 7, 8)
    run_both(c_module, t_module, rng.standard_normal(shape))


def test_max_pool_module_return_indices_and_fold(rng):
    c_module, t_module = nn.MaxPool2d(2, return_indices=True), torch.nn.MaxPool2d(2, return_indices=True)
    x = rng.standard_normal((1, 2, 4, 6))
    (vc, ic), (vt, it) = c_module(chainrule.tensor(x)), t_module(torch.tensor(x))
    assert_close(vc, vt)
    np.testing.assert_array_equal(ic.numpy(), it.numpy())
    cols = rng.standard_normal((2, 12, 12))
    c_fold, t_fold = nn.Fold((5, 6), 2, padding=1, stride=(2, 2)), torch.nn.Fold((5, 6), 2, padding=1, stride=(2, 2))
    assert repr(c_fold) == repr(t_fold)
    assert_close(c_fold(chainrule.tensor(cols)), t_fold(torch.tensor(cols)))


def test_dropout2d_module_trains_and_evaluates():
    chainrule.manual_seed(0)
    layer = nn.Dropout2d(0.5)
    assert repr(layer) == repr(torch.nn.Dropout2d(0.5)) == "Dropout2d(p=0.5, inplace=False)"
    x = chainrule.ones(16, 32, 2, 2)
    out = layer(x).numpy().reshape(16, 32, 4)
    assert np.all(out == out[:, :, :1]) and 0 < (out == 0).mean() < 1
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    assert repr(nn.Dropout1d(0.2)) == repr(torch.nn.Dropout1d(0.2))


@pytest.mark.parametrize("make", [lambda m: m.BatchNorm2d(6), lambda m: m.GroupNorm(3, 6), lambda m: m.GroupNorm(1, 6)])
def test_norm_layers_after_a_conv_match_torch(make, rng):
    """BatchNorm2d / GroupNorm (chainrule.nn) on channel-major conv outputs, training and eval."""
    c_model, t_model = twin(lambda m: m.Sequential(m.Conv2d(3, 6, 3, padding=1), make(m), m.ReLU(), m.MaxPool2d(2)))
    x = rng.standard_normal((4, 3, 6, 6))
    run_both(c_model, t_model, x)
    c_model.eval()
    t_model.eval()
    run_both(c_model, t_model, x, backward=False)


def test_a_small_cnn_trains_like_torch(rng):
    """Three SGD steps of conv-relu-pool-conv-relu-pool-linear give the same weights."""
    def make(m):
        return m.Sequential(m.Conv2d(1, 4, 3), m.ReLU(), m.MaxPool2d(2), m.Conv2d(4, 8, 3, padding=1), m.ReLU(),
                            m.MaxPool2d(2), m.Flatten(), m.Linear(8 * 3 * 3, 10))

    c_model, t_model = twin(make)
    c_opt = chainrule.optim.SGD(c_model.parameters(), lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.1, momentum=0.9)
    x, y = rng.standard_normal((8, 1, 14, 14)), rng.integers(0, 10, 8)
    for _ in range(3):
        for model, opt, lib in ((c_model, c_opt, chainrule), (t_model, t_opt, torch)):
            opt.zero_grad()
            lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y)).backward()
            opt.step()
    for (name, c), t in zip(c_model.state_dict().items(), t_model.state_dict().values()):
        assert_close(c, t, rtol=1e-8, atol=1e-10, what=name)


# -- the cnn model --------------------------------------------------------------------------


@pytest.mark.parametrize("shape,flat", [((1, 8, 8), 64 * 2 * 2), ((1, 28, 28), 64 * 7 * 7), ((3, 16, 12), 64 * 4 * 3)])
def test_cnn_model_shapes(shape, flat):
    from chainrule.models import build_model

    chainrule.manual_seed(0)
    model = build_model("cnn", shape, 10, hidden=(), activation="relu", dropout=0.0)
    assert model(chainrule.randn(5, *shape)).shape == (5, 10)
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert linear[0].in_features == flat
    assert [type(m).__name__ for m in model][:4] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]
    with_hidden = build_model("cnn", shape, 10, hidden=(32,), dropout=0.5)
    assert with_hidden(chainrule.randn(2, *shape)).shape == (2, 10)
    with pytest.raises(ValueError, match="too small"):
        build_model("cnn", (1, 3, 3), 10)


def test_cnn_trains_on_28x28_idx_files(tmp_path, capsys):
    """The MNIST code path (--data-dir, IDX files, 28x28 inputs) with a tiny synthetic set."""
    from chainrule.cli import main
    from chainrule.datasets import write_idx

    rng = np.random.default_rng(0)
    labels = np.arange(40, dtype=np.uint8) % 10
    images = np.zeros((40, 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):  # a bright square whose place tells the class
        row, col = 2 + 2 * label, 2 + label
        images[i, row:row + 6, col:col + 6] = 200 + rng.integers(0, 50)
    for prefix in ("train", "t10k"):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", images)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", labels)
    out = tmp_path / "run"
    assert main(["train", "--model", "cnn", "--dataset", "mnist", "--data-dir", str(tmp_path), "--epochs", "3",
                 "--batch-size", "20", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))" in printed
    assert "epoch 3/3" in printed and (out / "model.safetensors").exists()


def test_conv_transpose3d_initialises_from_torchs_stream():
    """The same seed gives PyTorch's initial weights and bias, draw for draw."""
    chainrule.manual_seed(0)
    mine = nn.ConvTranspose3d(4, 6, (2, 3, 2), groups=2)
    torch.manual_seed(0)
    theirs = torch.nn.ConvTranspose3d(4, 6, (2, 3, 2), groups=2)
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(mine.state_dict()[name].numpy(), value.numpy())
