"""Losses against PyTorch in float64: every option, values and gradients (of the input and,
where PyTorch has one, of the target), the modules, and the error messages."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from conftest import assert_close
from op_parity import check

RNG = np.random.default_rng(7)
REDUCTIONS = ["mean", "sum", "none"]


def normal(*shape):
    return RNG.standard_normal(shape)


def probabilities(*shape):
    return RNG.uniform(0.02, 0.98, shape)


def labels(classes, *shape):
    return RNG.integers(0, classes, shape)


# -- regression losses -----------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}), ("huber_loss", {"delta": 0.3}),
])
def test_regression_losses(name, kwargs, reduction):
    check(lambda lib, x, y: getattr(lib.nn.functional, name)(x, y, reduction=reduction, **kwargs),
          normal(4, 3), normal(4, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_losses_with_weight(name, reduction):
    check(lambda lib, x, y, w: getattr(lib.nn.functional, name)(x, y, reduction=reduction, weight=w),
          normal(4, 3), normal(4, 3), probabilities(4, 3), grad=True)


@pytest.mark.parametrize("name,kwargs", [
    ("MSELoss", {}), ("L1Loss", {"reduction": "sum"}), ("SmoothL1Loss", {"beta": 0.4}),
    ("HuberLoss", {"delta": 2.0, "reduction": "none"}),
])
def test_regression_loss_modules(name, kwargs):
    check(lambda lib, x, y: getattr(lib.nn, name)(**kwargs)(x, y), normal(5, 2), normal(5, 2))
    assert repr(getattr(nn, name)(**kwargs)) == repr(getattr(torch.nn, name)(**kwargs))


def test_broadcasting_target_warns_like_torch():
    with pytest.warns(UserWarning, match="Using a target size"):
        check(lambda lib, x, y: lib.nn.functional.mse_loss(x, y), normal(4, 3), normal(4, 1))


def test_invalid_reduction():
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        nn.functional.mse_loss(chainrule.zeros(2), chainrule.zeros(2), reduction="foo")


def test_legacy_size_average_and_reduce():
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"


def test_smooth_l1_negative_beta():
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta"):
        nn.functional.smooth_l1_loss(chainrule.zeros(2), chainrule.zeros(2), beta=-1.0)


@pytest.mark.parametrize("delta", [0.0, -1.0])
def test_huber_non_positive_delta(delta):
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta"):
            lib.nn.functional.huber_loss(lib.zeros(2), lib.zeros(2), delta=delta)
        with pytest.raises(RuntimeError, match="non-positive values for delta"):
            lib.nn.HuberLoss(delta=delta)(lib.zeros(2), lib.zeros(2))


# -- cross entropy and NLL -------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, 1])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 3, 2)])
def test_cross_entropy_class_indices(shape, smoothing, ignore, weighted, reduction):
    target = labels(shape[1], shape[0], *shape[2:])
    kwargs = {"reduction": reduction, "label_smoothing": smoothing}
    if ignore is not None:
        kwargs["ignore_index"] = ignore
    weight = probabilities(shape[1]) if weighted else None

    def fn(lib, x):
        w = None if weight is None else lib.tensor(weight)
        return lib.nn.functional.cross_entropy(x, lib.tensor(target), weight=w, **kwargs)

    check(fn, normal(*shape) * 2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4)])
def test_cross_entropy_class_probabilities(shape, smoothing, weighted, reduction):
    target = np.moveaxis(RNG.dirichlet(np.ones(shape[1]), (shape[0],) + shape[2:]), -1, 1)
    weight = probabilities(shape[1]) if weighted else None

    def fn(lib, x, t):
        w = None if weight is None else lib.tensor(weight)
        return lib.nn.functional.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=smoothing)

    check(fn, normal(*shape), target)


def test_cross_entropy_unbatched():
    check(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor(2)), normal(5))
    check(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor(2), reduction="none"), normal(5))
    check(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), normal(5), RNG.dirichlet(np.ones(5)))


def test_cross_entropy_is_one_fused_node():
    loss = nn.functional.cross_entropy(chainrule.randn(4, 3, requires_grad=True), chainrule.tensor([0, 2, 1, 1]))
    assert loss.grad_fn.name() == "NllLossBackward0"
    assert loss.grad_fn.next_functions[0][0] is not None


@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_all_targets_ignored(weighted):
    """PyTorch: the mean over no targets is nan, and the gradient is zero."""
    x_np = normal(3, 4)

    def run(lib):
        x = lib.tensor(x_np, requires_grad=True)
        weight = lib.ones(4, dtype=lib.float64) if weighted else None
        loss = lib.nn.functional.cross_entropy(x, lib.tensor([-100, -100, -100]), weight=weight)
        loss.backward()
        return loss, x.grad

    (loss_c, grad_c), (loss_t, grad_t) = run(chainrule), run(torch)
    assert np.isnan(loss_c.item()) and np.isnan(loss_t.item())
    assert_close(grad_c, grad_t)


def test_cross_entropy_double_backward():
    x_np, target = normal(4, 5), labels(5, 4)
    weight = probabilities(5)

    def run(lib):
        x = lib.tensor(x_np, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(target), weight=lib.tensor(weight),
                                               ignore_index=target[0])
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        return loss, g, gg

    for c, t in zip(run(chainrule), run(torch)):
        assert_close(c, t)


def test_cross_entropy_float32():
    x = chainrule.randn(8, 5, requires_grad=True)
    loss = nn.functional.cross_entropy(x, chainrule.tensor(labels(5, 8)))
    assert loss.dtype == chainrule.float32
    loss.backward()
    assert x.grad.dtype == chainrule.float32


def test_cross_entropy_errors():
    x = chainrule.randn(3, 4)
    with pytest.raises(IndexError, match="Target 5 is out of bounds."):
        nn.functional.cross_entropy(x, chainrule.tensor([0, 1, 5]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds."):
        nn.functional.cross_entropy(x, chainrule.tensor([0, 1, -1]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)."):
        nn.functional.cross_entropy(x, chainrule.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        nn.functional.cross_entropy(x, chainrule.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 4 classes"):
        nn.functional.cross_entropy(x, chainrule.tensor([0, 1, 2]), weight=chainrule.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        nn.functional.cross_entropy(x, chainrule.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match=r"Expected target size \[3, 5\], got \[3, 4\]"):
        nn.functional.nll_loss(chainrule.randn(3, 4, 5), chainrule.zeros(3, 4, dtype=chainrule.int64))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2)])
def test_nll_loss(shape, weighted, reduction):
    target = labels(shape[1], shape[0], *shape[2:])
    target.flat[0] = 2
    weight = probabilities(shape[1]) if weighted else None

    def fn(lib, x):
        w = None if weight is None else lib.tensor(weight)
        return lib.nn.functional.nll_loss(x, lib.tensor(target), weight=w, ignore_index=2, reduction=reduction)

    check(fn, normal(*shape))


def test_loss_modules_with_class_options():
    weight = probabilities(4)
    target = labels(4, 6)

    def fn(lib, x):
        loss = lib.nn.CrossEntropyLoss(weight=lib.tensor(weight), ignore_index=0, label_smoothing=0.1)
        return loss(x, lib.tensor(target)) + lib.nn.NLLLoss(reduction="sum")(x.log_softmax(1), lib.tensor(target))

    check(fn, normal(6, 4))
    c = nn.CrossEntropyLoss(weight=chainrule.ones(3))
    t = torch.nn.CrossEntropyLoss(weight=torch.ones(3))
    assert list(c.state_dict()) == list(t.state_dict()) == ["weight"]
    assert repr(c) == repr(t) == "CrossEntropyLoss()"


# -- binary cross entropy ----------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(weighted, reduction):
    weight = probabilities(3) if weighted else None

    def fn(lib, x, t):
        w = None if weight is None else lib.tensor(weight)
        return lib.nn.functional.binary_cross_entropy(x, t, weight=w, reduction=reduction)

    check(fn, probabilities(4, 3), probabilities(4, 3))


def test_binary_cross_entropy_clamps_logs_at_minus_100():
    x = np.array([0.0, 1.0, 0.5, 1e-50])
    t = np.array([1.0, 0.0, 0.5, 1.0])
    out_c, out_t = check(lambda lib, x: lib.nn.functional.binary_cross_entropy(x, lib.tensor(t), reduction="none"),
                         x, grad=False)
    assert np.isfinite(out_c.numpy()).all()


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match="Using a target size"):
        nn.functional.binary_cross_entropy(chainrule.rand(3), chainrule.rand(3, 1))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        nn.functional.binary_cross_entropy(chainrule.tensor([1.5]), chainrule.tensor([1.0]))
    with pytest.raises(ValueError, match=r"Target size \(.*\) must be the same as input size"):
        nn.functional.binary_cross_entropy_with_logits(chainrule.rand(3), chainrule.rand(3, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_binary_cross_entropy_with_logits(pos_weighted, weighted, reduction):
    weight = probabilities(3) if weighted else None
    pos_weight = probabilities(3) * 3 if pos_weighted else None

    def fn(lib, x, t):
        w = None if weight is None else lib.tensor(weight)
        pw = None if pos_weight is None else lib.tensor(pos_weight)
        return lib.nn.functional.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw, reduction=reduction)

    check(fn, normal(4, 3) * 3, probabilities(4, 3))


def test_binary_cross_entropy_with_logits_is_finite_at_large_logits():
    x = np.array([1e4, -1e4, 1e4, -1e4, 0.0])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    out_c, _ = check(lambda lib, x: lib.nn.functional.binary_cross_entropy_with_logits(
        x, lib.tensor(t), pos_weight=lib.tensor([2.0] * 5), reduction="none"), x)
    assert np.isfinite(out_c.detach().numpy()).all()
    assert out_c.detach().numpy()[2] == pytest.approx(1e4)


def test_bce_modules():
    weight, pos_weight = probabilities(3), probabilities(3)

    def fn(lib, x, t):
        return (lib.nn.BCELoss(weight=lib.tensor(weight))(lib.sigmoid(x), t)
                + lib.nn.BCEWithLogitsLoss(pos_weight=lib.tensor(pos_weight), reduction="sum")(x, t))

    check(fn, normal(2, 3), probabilities(2, 3))
    c = nn.BCEWithLogitsLoss(weight=chainrule.ones(3), pos_weight=chainrule.ones(3))
    t = torch.nn.BCEWithLogitsLoss(weight=torch.ones(3), pos_weight=torch.ones(3))
    assert list(c.state_dict()) == list(t.state_dict())


# -- KL divergence -------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:reduction. 'mean'")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(log_target, reduction):
    target = RNG.dirichlet(np.ones(4), 3)
    if log_target:
        target = np.log(target + 0.1)

    def fn(lib, x, t):
        return lib.nn.functional.kl_div(x, t, reduction=reduction, log_target=log_target)

    check(fn, np.log(RNG.dirichlet(np.ones(4), 3)), target)
    zero = target.copy()
    zero[0, 1] = 0.0  # 0 log 0 = 0 (the target's own gradient is undefined there)
    check(lambda lib, x: fn(lib, x, lib.tensor(zero)), np.log(RNG.dirichlet(np.ones(4), 3)))
    check(lambda lib, x, t: lib.nn.KLDivLoss(reduction=reduction, log_target=log_target)(x, t),
          np.log(RNG.dirichlet(np.ones(4), 3)), target)


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="batchmean"):
        nn.functional.kl_div(chainrule.zeros(2, 2), chainrule.ones(2, 2))


@pytest.mark.filterwarnings("ignore:reduction. 'mean'")
@pytest.mark.parametrize("name,make_args", [
    ("mse_loss", lambda x: (x, x.detach() * 0.5)),
    ("l1_loss", lambda x: (x, x.detach() * 0.5)),
    ("smooth_l1_loss", lambda x: (x, x.detach() * 0.5)),
    ("huber_loss", lambda x: (x, x.detach() * 0.5)),
    ("cross_entropy", lambda x: (x, chainrule.tensor([0, 1, 2, 1]))),
    ("nll_loss", lambda x: (x, chainrule.tensor([0, 1, 2, 1]))),
    ("binary_cross_entropy", lambda x: (chainrule.sigmoid(x), chainrule.rand(4, 3))),
    ("binary_cross_entropy_with_logits", lambda x: (x, chainrule.rand(4, 3))),
    ("kl_div", lambda x: (x.log_softmax(1), chainrule.rand(4, 3))),
])
def test_float32_losses_stay_float32(name, make_args):
    x = chainrule.randn(4, 3, requires_grad=True)
    loss = getattr(nn.functional, name)(*make_args(x))
    assert loss.dtype == chainrule.float32
    loss.backward()
    assert x.grad.dtype == chainrule.float32


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((1, 4), (3, 4))])
def test_mse_loss_is_one_node_with_second_derivatives(reduction, shapes):
    rng = np.random.default_rng(3)
    a0, b0 = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    results = []
    for lib in (torch, chainrule):
        a, b = lib.tensor(a0, requires_grad=True), lib.tensor(b0, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # both warn when target and input broadcast
            y = lib.nn.functional.mse_loss(a, b, reduction=reduction)
        g1 = lib.autograd.grad(y.sum(), (a, b), create_graph=True)
        g2 = lib.autograd.grad((g1[0] ** 2).sum() + (g1[1] ** 3).sum(), (a, b))
        results.append((y, *g1, *g2))
        if lib is chainrule:
            assert y.grad_fn.name() == "MseLossBackward0" and y.grad_fn.next_functions[1][0].variable is b
    for c, t in zip(results[1], results[0]):
        assert_close(c, t)


# -- margin, embedding and likelihood losses -----------------------------------------------------


def signs(*shape):
    return RNG.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_and_embedding_losses(reduction):
    cases = [
        (lambda L, a, b, y: L.nn.functional.margin_ranking_loss(a, b, y, margin=0.3, reduction=reduction),
         normal(6), normal(6), signs(6)),
        (lambda L, x, y: L.nn.functional.hinge_embedding_loss(x, y, margin=0.5, reduction=reduction),
         normal(4, 3), np.array([[1.0, -1.0, 0.0]] * 4)),
        (lambda L, x, y: L.nn.functional.soft_margin_loss(x, y.detach(), reduction=reduction),
         normal(4, 3), signs(4, 3)),
        (lambda L, x, y: L.nn.functional.multilabel_soft_margin_loss(x, y, reduction=reduction),
         normal(4, 5), RNG.integers(0, 2, (4, 5)).astype(float)),
        (lambda L, x, y, w: L.nn.functional.multilabel_soft_margin_loss(x, y, weight=w, reduction=reduction),
         normal(4, 5), probabilities(4, 5), probabilities(5)),
        (lambda L, a, b: L.nn.functional.cosine_embedding_loss(a, b, L.tensor([1.0, -1.0, 1.0, -1.0], dtype=L.float64),
                                                               margin=-0.2, reduction=reduction),
         normal(4, 5), normal(4, 5)),
        (lambda L, a, b: L.nn.functional.cosine_embedding_loss(a, b, L.tensor(-1.0, dtype=L.float64), reduction=reduction),
         normal(5), normal(5)),
        (lambda L, a, p, n: L.nn.functional.triplet_margin_loss(a, p, n, margin=2.0, reduction=reduction),
         normal(4, 5), normal(4, 5), normal(4, 5)),
        (lambda L, a, p, n: L.nn.functional.triplet_margin_loss(a, p, n, p=1, swap=True, reduction=reduction),
         normal(4, 5), normal(4, 5), normal(4, 5)),
        (lambda L, a, p, n: L.nn.functional.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda u, v: 1 - L.nn.functional.cosine_similarity(u, v), margin=0.5,
            swap=True, reduction=reduction),
         normal(4, 5), normal(4, 5), normal(4, 5)),
        (lambda L, a, p, n: L.nn.functional.triplet_margin_with_distance_loss(a, p, n, reduction=reduction),
         normal(4, 5), normal(4, 5), normal(4, 5)),
    ]
    for fn, *inputs in cases:
        check(fn, *inputs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(p, reduction):
    target = np.array([0, 2, 1, 2, 3])
    check(lambda L, x: L.nn.functional.multi_margin_loss(x, L.tensor(target), p=p, margin=0.7, reduction=reduction),
          normal(5, 4))
    check(lambda L, x, w: L.nn.functional.multi_margin_loss(x, L.tensor(target), p=p, weight=w.detach(),
                                                             reduction=reduction),
          normal(5, 4), probabilities(4))
    check(lambda L, x: L.nn.functional.multi_margin_loss(x, L.tensor(2), p=p, reduction=reduction), normal(4))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction):
    """Each sample's targets end at its first -1 (a repeated target counts twice, as in
    PyTorch); a margin of exactly 1 sends no gradient."""
    target = np.array([[0, 3, -1, 2, 2, 1], [5, 5, 1, -1, 0, 0], [-1, 0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5],
                       [2, -1, -1, 0, 0, 0]])
    x = normal(5, 6)
    x[0, 4] = x[0, 0] - 1.0
    check(lambda L, x: L.nn.functional.multilabel_margin_loss(x, L.tensor(target), reduction=reduction), x)
    check(lambda L, x: L.nn.MultiLabelMarginLoss(reduction=reduction)(x, L.tensor(target[1])), normal(6))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input,full", [(True, False), (False, False), (True, True), (False, True)])
def test_poisson_nll_loss(log_input, full, reduction):
    rate = normal(4, 3) if log_input else probabilities(4, 3) * 3
    counts = RNG.integers(0, 5, (4, 3)).astype(float)
    counts[0, :2] = (0.0, 1.0)

    def loss(L, x, t):
        return L.nn.functional.poisson_nll_loss(x, t, log_input=log_input, full=full, reduction=reduction)

    check(lambda L, x: loss(L, x, L.tensor(counts)), rate)
    # The target's own gradient: PyTorch's is NaN at a target of 0 under ``full`` (0 times the
    # infinite slope of its masked Stirling term); ours is 0 there, and PyTorch's elsewhere.
    check(loss, rate, np.maximum(counts, 1.0) if full else counts)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1)])
def test_gaussian_nll_loss(var_shape, reduction):
    var = probabilities(*var_shape)
    var.flat[0] = 1e-9  # clamped at eps outside the graph: its gradient is taken at eps
    check(lambda L, x, t, v: L.nn.functional.gaussian_nll_loss(x, t, v, reduction=reduction),
          normal(4, 3), normal(4, 3), var)
    check(lambda L, x, t: L.nn.GaussianNLLLoss(full=True, reduction=reduction)(x, t, 0.5), normal(4, 3), normal(4, 3))


@pytest.mark.parametrize("name,args", [
    ("MarginRankingLoss", {"margin": 0.2}), ("HingeEmbeddingLoss", {"margin": 2.0}), ("SoftMarginLoss", {}),
    ("MultiLabelSoftMarginLoss", {}), ("CosineEmbeddingLoss", {"margin": 0.1}), ("MultiMarginLoss", {"p": 2}),
    ("TripletMarginLoss", {"swap": True}), ("TripletMarginWithDistanceLoss", {}), ("PoissonNLLLoss", {"full": True}),
    ("GaussianNLLLoss", {"eps": 1e-3}), ("MultiLabelMarginLoss", {"reduction": "sum"}),
])
def test_new_loss_modules_print_and_keep_options_like_torch(name, args):
    ours, theirs = getattr(nn, name)(**args), getattr(torch.nn, name)(**args)
    assert repr(ours) == repr(theirs)
    assert ours.reduction == theirs.reduction
    for key in ("margin", "p", "eps", "swap", "full", "log_input"):
        assert getattr(ours, key, None) == getattr(theirs, key, None), key


def test_loss_modules_match_functional_forms():
    target = np.array([1, 0, 3])
    check(lambda L, x: L.nn.MultiMarginLoss(margin=0.5, reduction="sum")(x, L.tensor(target)), normal(3, 4))
    check(lambda L, a, b, y: L.nn.MarginRankingLoss(margin=0.1)(a, b, y), normal(5), normal(5), signs(5))
    check(lambda L, a, p, n: L.nn.TripletMarginLoss(margin=0.5, p=3)(a, p, n), normal(3, 4), normal(3, 4), normal(3, 4))
    check(lambda L, x, t: L.nn.PoissonNLLLoss(log_input=False, eps=1e-3)(x, t), probabilities(3, 2),
          RNG.integers(0, 4, (3, 2)).astype(float))


@pytest.mark.parametrize("make", [
    lambda L: L.nn.functional.soft_margin_loss(L.zeros(3), L.ones(3, requires_grad=True)),
    lambda L: L.nn.functional.multi_margin_loss(L.zeros(2, 3), L.tensor([0, 1]), weight=L.ones(3, requires_grad=True)),
    lambda L: L.nn.functional.multi_margin_loss(L.zeros(2, 3), L.tensor([0, 3])),
    lambda L: L.nn.functional.multi_margin_loss(L.zeros(2, 3), L.tensor([0, -1])),
    lambda L: L.nn.functional.multi_margin_loss(L.zeros(2, 3), L.tensor([0, 1, 2])),
    lambda L: L.nn.functional.multi_margin_loss(L.zeros(2, 3), L.tensor([0, 1]), p=3),
    lambda L: L.nn.functional.margin_ranking_loss(L.zeros(2, 3), L.zeros(2, 3), L.ones(2)),
    lambda L: L.nn.functional.cosine_embedding_loss(L.zeros(1, 2, 3), L.zeros(1, 2, 3), L.ones(2)),
    lambda L: L.nn.functional.triplet_margin_loss(L.zeros(2, 3), L.zeros(2, 3), L.zeros(3)),
    lambda L: L.nn.functional.triplet_margin_loss(L.zeros(2, 3), L.zeros(2, 3), L.zeros(2, 3), margin=0),
    lambda L: L.nn.functional.gaussian_nll_loss(L.zeros(2, 3), L.zeros(2, 3), L.ones(5)),
    lambda L: L.nn.functional.gaussian_nll_loss(L.zeros(2, 3), L.zeros(2, 3), -L.ones(2, 3)),
    lambda L: L.nn.TripletMarginLoss(margin=-1.0),
    lambda L: L.nn.MultiMarginLoss(weight=L.ones(2, 2)),
    lambda L: L.nn.functional.multilabel_margin_loss(L.zeros(2, 3), L.tensor([[0, 3, -1]] * 2)),
    lambda L: L.nn.functional.multilabel_margin_loss(L.zeros(2, 3), L.tensor([[0, -2, -1]] * 2)),
    lambda L: L.nn.functional.multilabel_margin_loss(L.zeros(2, 3), L.tensor([[0, 1]] * 2)),
    lambda L: L.nn.functional.multilabel_margin_loss(L.zeros(1, 2, 3), L.zeros(1, 2, 3, dtype=L.long)),
    lambda L: L.nn.functional.multilabel_margin_loss(L.zeros(2, 0), L.zeros(2, 0, dtype=L.long)),
    lambda L: L.nn.functional.multilabel_margin_loss(L.zeros(2, 3), L.zeros(2, 3)),
    lambda L: L.nn.functional.multilabel_margin_loss(L.zeros(2, 3), L.zeros(2, 3, dtype=L.long), reduction="x"),
])
def test_new_losses_refuse_like_torch(make):
    from op_parity import raises_like_torch

    with pytest.raises(Exception) as theirs:
        make(torch)
    raises_like_torch(lambda: make(chainrule), lambda: make(torch), re.escape(str(theirs.value)[:40]))


def test_new_losses_under_compile_follow_changing_targets():
    """Each loss compiled gives eager's numbers when the targets change between calls (the
    masks from the targets are ops of the plan, not constants of its first calls)."""
    fn = nn.functional
    losses = {
        "hinge": lambda x, y: fn.hinge_embedding_loss(x, y),
        "cosine": lambda x, y: fn.cosine_embedding_loss(x, x.flip(0), y[:, 0]),
        "multi_margin": lambda x, y: fn.multi_margin_loss(x, (y[:, 1] > 0).long() + 1),
        "poisson_full": lambda x, y: fn.poisson_nll_loss(x, (y + 1) * 2, full=True),
    }
    for name, loss in losses.items():
        compiled = chainrule.compile(loss, fullgraph=True)  # (a graph break would raise)
        for step in range(5):
            rng = np.random.default_rng(step)
            x = chainrule.tensor(rng.standard_normal((6, 3)), requires_grad=True)
            y = chainrule.tensor(rng.choice([-1.0, 1.0], (6, 3)))
            expected = loss(x, y)
            (gx,) = chainrule.autograd.grad(expected, x)
            got = compiled(x, y)
            (cx,) = chainrule.autograd.grad(got, x)
            assert got.item() == expected.item(), (name, step)
            np.testing.assert_array_equal(cx.numpy(), gx.numpy(), err_msg=name)


# -- CTC --------------------------------------------------------------------------------------


def _ctc_case(steps=7, batch=4, classes=5, blank=0):
    """Log-probabilities and padded targets (repeats, a target of length 0, lengths below the
    maximum, one impossible alignment: three equal labels in three steps)."""
    logits = normal(steps, batch, classes)
    log_probs = torch.tensor(logits).log_softmax(2).numpy()
    labels = [c for c in range(classes) if c != blank]
    targets = np.array([[labels[0], labels[1], labels[1]], [labels[2], labels[0], labels[3]],
                        [labels[3]] * 3, [labels[1]] * 3])
    return log_probs, targets, [steps, steps - 1, 3, 5], [3, 2, 3, 0]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("blank", [0, 3])
def test_ctc_loss(reduction, zero_infinity, blank):
    log_probs, targets, input_lengths, target_lengths = _ctc_case(blank=blank)
    check(lambda L, lp: L.nn.functional.ctc_loss(lp, L.tensor(targets), input_lengths, target_lengths, blank,
                                                  reduction, zero_infinity), log_probs)
    concatenated = np.concatenate([t[:n] for t, n in zip(targets, target_lengths)])
    check(lambda L, lp: L.nn.CTCLoss(blank, reduction, zero_infinity)(lp, L.tensor(concatenated),
                                                                      L.tensor(input_lengths), L.tensor(target_lengths)),
          log_probs[:, :, :])


def test_ctc_loss_unbatched_float32_and_through_log_softmax():
    log_probs, targets, _, _ = _ctc_case()
    check(lambda L, lp: L.nn.functional.ctc_loss(lp, L.tensor(targets[0]), (7,), (3,), reduction="none"),
          log_probs[:, 0])
    check(lambda L, lp: L.nn.functional.ctc_loss(lp, L.tensor(targets[:2]), [7, 6], [3, 2]),
          log_probs[:, :2].astype(np.float32), rtol=1e-5, atol=1e-6)
    check(lambda L, x: L.nn.functional.ctc_loss(x.log_softmax(2), L.tensor(targets[:2]), [7, 6], [3, 2]),
          normal(7, 2, 5))


def test_ctc_loss_node_and_no_second_derivative():
    log_probs, targets, _, _ = _ctc_case()
    lp = chainrule.tensor(log_probs[:, :2], requires_grad=True)
    loss = nn.functional.ctc_loss(lp, chainrule.tensor(targets[:2]), [7, 6], [3, 2], reduction="none")
    assert loss.grad_fn.name() == "CtcLossBackward0"
    (grad,) = chainrule.autograd.grad(loss.sum(), lp, create_graph=True)
    with pytest.raises(RuntimeError, match="derivative for aten::_ctc_loss_backward is not implemented"):
        grad.sum().backward()
    assert repr(nn.CTCLoss(blank=2, zero_infinity=True)) == repr(torch.nn.CTCLoss(blank=2, zero_infinity=True))


@pytest.mark.parametrize("make", [
    lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.long), [6, 5], [3, 2]),
    lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.long), [5, 5], [4, 2]),
    lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.long), [5], [3, 2]),
    lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.long), [5, 5], [3]),
    lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.long), [5, 5], [3, 2], blank=4),
    lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.long), [5, -1], [3, 2]),
    lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.long), [5, 5], [3, -2]),
    lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(3, dtype=L.long), [5, 5], [2, 2]),
    lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(1, 1, 1, dtype=L.long), [5, 5], [1, 1]),
    lambda L: L.nn.functional.ctc_loss(L.zeros(5, 2, 4), L.ones(2, 3, dtype=L.long), [5, 5], [3, 2], reduction="x"),
])
def test_ctc_loss_refuses_like_torch(make):
    from op_parity import raises_like_torch

    with pytest.raises(Exception) as theirs:
        make(torch)
    raises_like_torch(lambda: make(chainrule), lambda: make(torch), re.escape(str(theirs.value)[:60]))


def test_nll_loss_2d_is_nll_loss_under_its_deprecated_name():
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 4))
    target = np.random.default_rng(3).integers(0, 3, (2, 4, 4))
    with pytest.warns(FutureWarning, match="NLLLoss2d` has been deprecated"):
        ours = chainrule.nn.NLLLoss2d(reduction="sum")
    with pytest.warns(FutureWarning):
        theirs = torch.nn.NLLLoss2d(reduction="sum")
    assert isinstance(ours, chainrule.nn.NLLLoss)
    assert_close(ours(chainrule.tensor(x).log_softmax(1), chainrule.tensor(target)),
                 theirs(torch.tensor(x).log_softmax(1), torch.tensor(target)))
