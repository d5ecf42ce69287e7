"""Layers against PyTorch in float64 with the same weights: outputs, gradients of inputs
and parameters, buffers, reprs, default initialisation statistics and errors."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from conftest import assert_close
from nn_twins import run_both, twin

RNG = np.random.default_rng(3)


def normal(*shape):
    return RNG.standard_normal(shape)


# -- Linear, Bilinear, Identity, Flatten ---------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 3), (3,), (2, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias):
    c, t = twin(lambda nn: nn.Linear(3, 4, bias=bias))
    run_both(c, t, normal(*shape))
    assert repr(c) == repr(t) == f"Linear(in_features=3, out_features=4, bias={bias})"


def test_linear_is_one_fused_node():
    layer = nn.Linear(3, 2)
    out = layer(chainrule.randn(4, 3))
    assert out.grad_fn.name() == "AddmmBackward0"


def test_linear_shape_error_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x5 and 3x2\)"):
        nn.Linear(3, 2)(chainrule.randn(4, 5))


def test_linear_dtype_mismatch_raises():
    with pytest.raises(RuntimeError, match="same dtype"):
        nn.Linear(4, 2)(chainrule.randn(3, 4).double())


def test_linear_default_init_follows_torch_distribution():
    chainrule.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-bound, bound): std = bound / sqrt(3)
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound
    assert abs(w.mean()) < 0.01 * bound
    assert np.abs(w).max() > 0.99 * bound


def test_float32_module_stays_float32():
    layer = nn.Linear(3, 2)
    x = chainrule.randn(4, 3, requires_grad=True)
    out = layer(x)
    assert out.dtype == chainrule.float32
    out.sum().backward()
    assert x.grad.dtype == layer.weight.grad.dtype == chainrule.float32


def test_bilinear():
    c, t = twin(lambda nn: nn.Bilinear(3, 2, 4))
    run_both(c, t, normal(5, 3), normal(5, 2))
    assert repr(c) == repr(t)


def test_identity_flatten_unflatten():
    for make in (lambda nn: nn.Identity(3, foo=1), lambda nn: nn.Flatten(), lambda nn: nn.Flatten(0, 1),
                 lambda nn: nn.Unflatten(1, (3, 4))):
        c, t = twin(make)
        x = normal(2, 12) if isinstance(c, nn.Unflatten) else normal(2, 3, 4)
        run_both(c, t, x)
        assert repr(c) == repr(t)


# -- Embedding -----------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                                    {"max_norm": 1.0}])
def test_embedding(kwargs):
    c, t = twin(lambda nn: nn.Embedding(6, 3, **kwargs))
    run_both(c, t, np.array([[0, 2, 5, 2], [1, 1, 3, 0]]))
    assert repr(c) == repr(t)


def test_embedding_init_and_padding_row():
    chainrule.manual_seed(1)
    emb = nn.Embedding(2000, 50, padding_idx=0)
    w = emb.weight.detach().numpy()
    assert (w[0] == 0).all()
    assert abs(w[1:].mean()) < 0.01 and abs(w[1:].std() - 1) < 0.01


def test_embedding_from_pretrained_shares_and_freezes():
    weights = chainrule.randn(4, 2)
    emb = nn.Embedding.from_pretrained(weights)
    assert not emb.weight.requires_grad
    assert emb(chainrule.tensor([3])).tolist() == [weights[3].tolist()]
    unfrozen = nn.Embedding.from_pretrained(weights, freeze=False)
    assert unfrozen.weight.requires_grad


def test_embedding_errors():
    emb = nn.Embedding(3, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        emb(chainrule.tensor([3]))
    with pytest.raises(RuntimeError, match="indices"):
        emb(chainrule.tensor([1.0]))


# -- Dropout -------------------------------------------------------------------------------


def test_dropout_train_and_eval():
    chainrule.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = chainrule.ones(200, 100, requires_grad=True)
    out = drop(x)
    kept = out.detach().numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(out.detach().numpy()[kept], 1 / 0.75, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, kept)
    drop.eval()
    assert drop(x) is x
    assert repr(drop) == repr(torch.nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"


def test_dropout_uses_the_global_generator():
    x = chainrule.ones(50)
    chainrule.manual_seed(3)
    a = nn.functional.dropout(x, 0.5).numpy()
    chainrule.manual_seed(3)
    b = nn.functional.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)


def test_dropout_edge_probabilities():
    x = chainrule.randn(4, 4)
    assert nn.functional.dropout(x, 0.0) is x
    assert (nn.functional.dropout(x, 1.0).numpy() == 0).all()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    assert nn.functional.dropout(x.float(), 0.5).dtype == chainrule.float32


# -- normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"momentum": None}, {"track_running_stats": False},
                                    {"eps": 1e-3, "momentum": 0.3}])
def test_batchnorm1d_train_then_eval(shape, kwargs):
    c, t = twin(lambda nn: nn.BatchNorm1d(3, **kwargs))
    for step in range(3):
        run_both(c, t, normal(*shape) * 2 + 1, seed=step)
    c.eval()
    t.eval()
    run_both(c, t, normal(*shape))
    assert repr(c) == repr(t)


def test_batchnorm2d():
    c, t = twin(lambda nn: nn.BatchNorm2d(3))
    run_both(c, t, normal(2, 3, 4, 5))
    run_both(c, t, normal(2, 3, 4, 5), seed=1)
    c.eval()
    t.eval()
    run_both(c, t, normal(2, 3, 4, 5))
    assert repr(c) == repr(t)
    assert list(c.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert int(c.num_batches_tracked) == 2 and c.num_batches_tracked.dtype == chainrule.int64


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(chainrule.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(chainrule.randn(2, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(chainrule.randn(1, 3))
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        nn.BatchNorm1d(4).eval()(chainrule.randn(2, 3))


def test_batchnorm_float32_buffers_stay_float32():
    bn = nn.BatchNorm1d(3)
    out = bn(chainrule.randn(5, 3))
    assert out.dtype == bn.running_mean.dtype == bn.running_var.dtype == chainrule.float32


def perturbed_twin(make):
    """``twin(make)`` with every parameter moved off its initial value (ones, zeros)."""
    c, t = twin(make)
    with torch.no_grad():
        for p in t.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype))
    c.load_state_dict(t.state_dict())
    return c, t


@pytest.mark.parametrize("shape,normalized", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((2, 3, 4), [4])])
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-2}])
def test_layernorm(shape, normalized, kwargs):
    c, t = perturbed_twin(lambda nn: nn.LayerNorm(normalized, **kwargs))
    run_both(c, t, normal(*shape) * 3)
    assert repr(c) == repr(t)


def test_layer_norm_third_derivative_is_the_true_one():
    """The third derivative through layer_norm equals finite differences of the second and
    the derivative of its formula written out op by op.  (PyTorch 2.13's own native layer
    norm gives another third derivative here; its op-by-op formula gives this one.)"""
    rng = np.random.default_rng(12)
    x0, v, u = rng.standard_normal((2, 5)), rng.standard_normal((2, 5)), rng.standard_normal((2, 5))

    def second(x_array, graph):
        x = chainrule.tensor(x_array, requires_grad=True)
        y = chainrule.nn.functional.layer_norm(x, (5,))
        g1, = chainrule.autograd.grad((y * chainrule.tensor(v)).sum(), x, create_graph=True)
        h, = chainrule.autograd.grad((g1 * chainrule.tensor(u)).sum(), x, create_graph=graph)
        return x, h

    x, h = second(x0, True)
    third, = chainrule.autograd.grad((h * chainrule.tensor(u)).sum(), x)
    step = 1e-6
    differences = np.zeros_like(x0)
    for index in np.ndindex(x0.shape):
        shift = np.zeros_like(x0)
        shift[index] = step
        ahead, behind = (float((second(x0 + s, False)[1] * chainrule.tensor(u)).sum()) for s in (shift, -shift))
        differences[index] = (ahead - behind) / (2 * step)
    np.testing.assert_allclose(third.numpy(), differences, rtol=1e-6, atol=1e-6)

    def formula(lib, x):  # the gradient of layer_norm written out, differentiated twice more by autograd
        centered = x - x.mean(dim=1, keepdim=True)
        rstd = 1 / lib.sqrt((centered * centered).mean(dim=1, keepdim=True) + 1e-5)
        xhat, g = centered * rstd, lib.tensor(v)
        return (g - g.mean(dim=1, keepdim=True) - xhat * (g * xhat).mean(dim=1, keepdim=True)) * rstd

    xt = torch.tensor(x0, requires_grad=True)
    ht, = torch.autograd.grad((formula(torch, xt) * torch.tensor(u)).sum(), xt, create_graph=True)
    expected, = torch.autograd.grad((ht * torch.tensor(u)).sum(), xt)
    assert_close(third, expected)


@pytest.mark.parametrize("shape,groups", [((2, 6), 3), ((2, 6, 5), 2), ((2, 4, 3, 3), 4), ((2, 4, 3, 3), 1)])
def test_groupnorm(shape, groups):
    c, t = perturbed_twin(lambda nn: nn.GroupNorm(groups, shape[1]))
    run_both(c, t, normal(*shape))
    assert repr(c) == repr(t)


@pytest.mark.parametrize("shape,normalized,kwargs", [((4, 5), 5, {}), ((2, 3, 4), (3, 4), {"eps": 1e-2}),
                                                     ((2, 3, 4), [4], {"elementwise_affine": False})])
def test_rmsnorm(shape, normalized, kwargs):
    c, t = perturbed_twin(lambda nn: nn.RMSNorm(normalized, **kwargs))
    run_both(c, t, normal(*shape) * 3)
    assert repr(c) == repr(t) and list(c.state_dict()) == list(t.state_dict())


@pytest.mark.parametrize("name,shape", [("InstanceNorm1d", (3, 4, 6)), ("InstanceNorm1d", (4, 6)),
                                        ("InstanceNorm2d", (2, 4, 3, 5)), ("InstanceNorm2d", (4, 3, 5)),
                                        ("InstanceNorm3d", (2, 4, 3, 2, 3)), ("InstanceNorm3d", (4, 2, 3, 2))])
@pytest.mark.parametrize("kwargs", [{}, {"affine": True}, {"affine": True, "track_running_stats": True},
                                    {"track_running_stats": True, "momentum": 0.3, "eps": 1e-3}])
def test_instancenorm_training_then_eval(name, shape, kwargs):
    c, t = perturbed_twin(lambda nn: getattr(nn, name)(4, **kwargs))
    for seed in range(2):  # the running statistics (if kept) move twice, as PyTorch's
        run_both(c, t, normal(*shape) * 2 + 1, seed=seed)
    c.eval(), t.eval()
    run_both(c, t, normal(*shape))
    assert repr(c) == repr(t)


def test_norm_errors_of_the_newer_layers():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input with shape \[\*5\]"):
        nn.RMSNorm(5)(chainrule.randn(3, 4))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.InstanceNorm1d(3)(chainrule.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match num_features \(4\), but got: 3"):
        nn.InstanceNorm2d(4, affine=True)(chainrule.randn(2, 3, 4, 4))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm2d(4)(chainrule.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"expected 4D or 5D input \(got 3D input\)"):
        nn.InstanceNorm3d(3)(chainrule.randn(2, 3, 4))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        nn.functional.instance_norm(chainrule.randn(2, 3, 1))


def test_norm_errors():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input with shape \[\*, 5\]"):
        nn.LayerNorm(5)(chainrule.randn(3, 4))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        nn.functional.group_norm(chainrule.randn(2, 6, 3), 4)
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)


@pytest.mark.parametrize("name,fn", [
    ("batch_norm", lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True)),
    ("batch_norm_3d", lambda lib, x, w, b: lib.nn.functional.batch_norm(
        x.reshape(2, 3, 2), None, None, w, b, training=True)),
    ("layer_norm", lambda lib, x, w, b: lib.nn.functional.layer_norm(x.reshape(4, 3), (3,), w, b)),
    ("group_norm", lambda lib, x, w, b: lib.nn.functional.group_norm(x.reshape(2, 3, 2), 3, w, b)),
])
def test_normalisation_second_derivatives(name, fn):
    """The fused normalisation node stays correct under create_graph (its statistics are
    rebuilt from the input in the recorded backward)."""
    x_np, w_np, b_np = normal(4, 3), normal(3) + 1, normal(3)
    v_np = normal(4, 3)

    def run(lib):
        x = lib.tensor(x_np, requires_grad=True)
        w = lib.tensor(w_np, requires_grad=True)
        b = lib.tensor(b_np, requires_grad=True)
        out = fn(lib, x, w, b).reshape(4, 3)
        loss = (out * out * lib.tensor(v_np)).sum()
        gx, gw = lib.autograd.grad(loss, (x, w), create_graph=True)
        total = (gx * gx).sum() + (gw * gw).sum()
        return (gx, gw) + lib.autograd.grad(total, (x, w, b))

    for c, t in zip(run(chainrule), run(torch)):
        assert_close(c, t)


def test_batch_norm_functional_eval_with_running_stats():
    x, rm, rv, w, b = normal(5, 3), normal(3), np.abs(normal(3)) + 0.5, normal(3), normal(3)

    def run(lib):
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)
        out = lib.nn.functional.batch_norm(xt, lib.tensor(rm), lib.tensor(rv), wt, lib.tensor(b), training=False)
        out.sum().backward()
        return out, xt.grad, wt.grad

    for c, t in zip(run(chainrule), run(torch)):
        assert_close(c, t)


def test_deepcopy_of_a_model():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    clone = copy.deepcopy(model)
    assert clone[0].weight is not model[0].weight
    np.testing.assert_array_equal(clone[0].weight.detach().numpy(), model[0].weight.detach().numpy())
    assert isinstance(clone[0].weight, nn.Parameter)


# -- functional extras ---------------------------------------------------------------------


def test_one_hot():
    labels = np.array([[0, 3], [2, 1]])
    for classes in (-1, 5):
        out = nn.functional.one_hot(chainrule.tensor(labels), classes)
        expected = torch.nn.functional.one_hot(torch.tensor(labels), classes)
        assert out.dtype == chainrule.int64
        np.testing.assert_array_equal(out.numpy(), expected.numpy())
    with pytest.raises(RuntimeError, match="Class values must be non-negative."):
        nn.functional.one_hot(chainrule.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        nn.functional.one_hot(chainrule.tensor([1, 2]), 2)
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        nn.functional.one_hot(chainrule.tensor([1.0]))


@pytest.mark.parametrize("pad,value", [((1, 2), None), ((1, 0, 0, 2), 1.5), ((2, 1, 1, 1, 0, 1), -3.0),
                                       ((-1, 2), 0.0), ((1, -1, -1, 0), None)])
def test_constant_pad(pad, value):
    from op_parity import check

    kwargs = {} if value is None else {"value": value}
    check(lambda lib, x: lib.nn.functional.pad(x, pad, **kwargs), normal(2, 3, 4))


def test_pad_double_backward():
    x_np = normal(2, 3)

    def run(lib):
        x = lib.tensor(x_np, requires_grad=True)
        out = lib.nn.functional.pad(x, (1, -1, 2, 0)) ** 2
        (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        return g, lib.autograd.grad((g ** 2).sum(), x)[0]

    for c, t in zip(run(chainrule), run(torch)):
        assert_close(c, t)


def test_pad_errors():
    x = chainrule.zeros(2, 2)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        nn.functional.pad(x, (1,))
    with pytest.raises(RuntimeError, match="Padding length should be less than or equal to two times"):
        nn.functional.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(NotImplementedError):
        nn.functional.pad(x, (1, 1), mode="bogus")


@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"p": 1.0, "dim": -1}])
def test_normalize(kwargs):
    from op_parity import check

    check(lambda lib, x: lib.nn.functional.normalize(x, **kwargs), normal(3, 4))


def test_cosine_similarity_and_pairwise_distance():
    from op_parity import check

    check(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b), normal(3, 4), normal(3, 4))
    check(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim=0), normal(3, 4), normal(1, 4))
    check(lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b), normal(3, 4), normal(3, 4))


def test_erf_op_against_torch():
    from chainrule.ops.nn import Erf

    x_np = normal(10) * 2
    x = chainrule.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    out = Erf.apply(x)
    assert_close(out, torch.erf(xt))
    out.sum().backward()
    torch.erf(xt).sum().backward()
    assert_close(x.grad, xt.grad)


def test_dropout_inplace():
    chainrule.manual_seed(0)
    x = chainrule.ones(10, 10, requires_grad=True)
    h = x * 1.0
    out = nn.Dropout(0.5, inplace=True)(h)
    assert out is h
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), h.detach().numpy())


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.group_norm(lib.randn(2, 4, 3), 2, weight=lib.ones(3)),
    lambda lib: lib.nn.functional.layer_norm(lib.randn(3, 4), (4,), weight=lib.ones(3)),
    lambda lib: lib.nn.functional.batch_norm(lib.randn(3, 4), None, None, weight=lib.ones(3), training=True),
    lambda lib: lib.nn.functional.batch_norm(lib.randn(3, 4), lib.zeros(3), lib.ones(3)),
])
def test_normalisation_parameter_shape_errors_match_torch(call):
    with pytest.raises(RuntimeError) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as actual:
        call(chainrule)
    assert str(actual.value) == str(expected.value)
