"""``torch.<op>`` forms of nn.functional ops and in-place methods (chainrule.nn.torch_forms),
against PyTorch: the same values, gradients and in-place behaviour, with PyTorch's top-level
signatures (``train=``, weight-first embedding, integer reductions defaulting to none)."""
import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3, 8))
Y = RNG.random((2, 3, 8))
W = RNG.standard_normal((8, 8, 8))


def both(make):
    """``make(library)`` for torch and chainrule; the two results."""
    return make(torch), make(chainrule)


CASES = {
    "conv1d": lambda L: L.conv1d(L.tensor(X), L.tensor(X[:2, :, :3]), None, 1, 1),
    "conv_transpose1d": lambda L: L.conv_transpose1d(L.tensor(X), L.tensor(W[:3, :2, :3])),
    "avg_pool1d_empty_stride": lambda L: L.avg_pool1d(L.tensor(X), 2, []),
    "max_pool1d": lambda L: L.max_pool1d(L.tensor(X), 3, 2),
    "max_pool2d_empty_stride": lambda L: L.max_pool2d(L.tensor(X), 2, []),
    "max_pool1d_with_indices": lambda L: L.max_pool1d_with_indices(L.tensor(X), 2)[1],
    "adaptive_max_pool1d": lambda L: L.stack([L.adaptive_max_pool1d(L.tensor(X), 3)[0],
                                              L.adaptive_max_pool1d(L.tensor(X), 3)[1].double()]),
    "adaptive_avg_pool1d": lambda L: L.adaptive_avg_pool1d(L.tensor(X), 3),
    "pixel_shuffle": lambda L: L.pixel_shuffle(L.tensor(X).reshape(1, 4, 2, 6), 2),
    "prelu": lambda L: L.prelu(L.tensor(X), L.tensor([0.25, 0.5, 0.1], dtype=L.float64)),
    "selu": lambda L: L.selu(L.tensor(X)),
    "celu": lambda L: L.celu(L.tensor(X), 0.5),
    "threshold": lambda L: L.threshold(L.tensor(X), 0.1, -2.0),
    "hardshrink": lambda L: L.hardshrink(L.tensor(X), 0.3),
    "rrelu_eval": lambda L: L.rrelu(L.tensor(X)),
    "dropout_eval": lambda L: L.dropout(L.tensor(X), 0.5, False),
    "embedding": lambda L: L.embedding(L.tensor(X[0]), L.tensor([[0, 2], [1, 1]])),
    "embedding_padding": lambda L: L.embedding(L.tensor(X[0]), L.tensor([0, 2]), 2),
    "layer_norm": lambda L: L.layer_norm(L.tensor(X), [8]),
    "group_norm": lambda L: L.group_norm(L.tensor(X), 3),
    "batch_norm": lambda L: L.batch_norm(L.tensor(X), L.tensor([1.0, 2.0, 0.5], dtype=L.float64), None, L.zeros(3, dtype=L.float64),
                                         L.ones(3, dtype=L.float64), True, 0.1, 1e-5, True),
    "instance_norm": lambda L: L.instance_norm(L.tensor(X), None, L.tensor([0.1, 0.2, 0.3], dtype=L.float64), None, None, True,
                                               0.1, 1e-5, False),
    "constant_pad_nd": lambda L: L.constant_pad_nd(L.tensor(X), [1, 2], 3.5),
    "bilinear": lambda L: L.bilinear(L.tensor(X[0]), L.tensor(Y[0]), L.tensor(W[:2]), None),
    "kl_div_default_none": lambda L: L.kl_div(L.tensor(X).log_softmax(-1), L.tensor(Y)),
    "kl_div_mean": lambda L: L.kl_div(L.tensor(X).log_softmax(-1), L.tensor(Y), 1),
    "kl_div_log_target": lambda L: L.kl_div(L.tensor(X), L.tensor(Y).log(), 2, log_target=True),
    "bce_with_logits": lambda L: L.binary_cross_entropy_with_logits(L.tensor(X), L.tensor(Y)),
    "bce_with_logits_sum": lambda L: L.binary_cross_entropy_with_logits(L.tensor(X), L.tensor(Y), None,
                                                                        L.tensor([2.0] * 8), 2),
    "cosine_embedding_loss": lambda L: L.cosine_embedding_loss(L.tensor(X[0]), L.tensor(X[1]),
                                                               L.tensor([1.0, -1.0, 1.0]), 0.1),
    "margin_ranking_loss": lambda L: L.margin_ranking_loss(L.tensor(X[0, 0]), L.tensor(X[1, 0]),
                                                           L.tensor([1.0, -1.0] * 4), 0.2, 1),
    "hinge_embedding_loss": lambda L: L.hinge_embedding_loss(L.tensor(X), L.tensor(np.sign(Y - 0.5))),
    "triplet_margin_loss": lambda L: L.triplet_margin_loss(L.tensor(X[0]), L.tensor(X[1]), L.tensor(Y[0])),
    "poisson_nll_loss": lambda L: L.poisson_nll_loss(L.tensor(X), L.tensor(Y), True, False, 1e-8, 1),
    "ctc_loss": lambda L: L.ctc_loss(L.tensor(X.reshape(6, 2, 4)).log_softmax(2), L.tensor([[1, 2], [1, 1]]),
                                     [6, 6], [2, 2]),
}


@pytest.mark.parametrize("name", CASES)
def test_value_like_torch(name):
    expected, got = both(CASES[name])
    assert_close(got, expected)


@pytest.mark.parametrize("name", ["relu_", "sigmoid_", "tanh_", "exp_", "sqrt_", "erfc_", "zero_", "clamp_",
                                  "selu_", "celu_", "threshold_", "rrelu_"])
def test_inplace_form_changes_its_input(name):
    args = {"clamp_": (-0.5, 0.5), "threshold_": (0.0, 7.0)}.get(name, ())

    def run(L):
        t = L.tensor(np.abs(X) if name == "sqrt_" else X)
        result = getattr(L, name)(t, *args)
        assert result is t
        return t

    expected, got = both(run)
    assert_close(got, expected)


def test_dropout_draws_the_same_mask_as_torch():
    def run(L):
        L.manual_seed(3)
        t = L.ones(4, 5, dtype=L.float64)
        out = L.dropout(t, 0.4, True)
        L.dropout_(t, 0.4, True)
        return L.stack([out, t])

    expected, got = both(run)
    assert_close(got, expected)


def test_gradients_flow_through_top_level_forms():
    def run(L):
        x = L.tensor(X, requires_grad=True)
        loss = (L.conv1d(x, L.tensor(X[:2, :, :3])).sum() + L.layer_norm(x, [8]).pow(2).sum()
                + L.kl_div(x.log_softmax(-1), L.tensor(Y), 2))
        loss.backward()
        return x.grad

    expected, got = both(run)
    assert_close(got, expected)


def test_errors_as_torch():
    with pytest.raises(TypeError):
        chainrule.dropout(chainrule.ones(3), 0.5)  # ``train`` is required at the top level
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        chainrule.kl_div(chainrule.zeros(2), chainrule.ones(2), 3)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_op'"):
        chainrule.no_such_op


@pytest.mark.parametrize("name, gates", [("lstm_cell", 4), ("gru_cell", 3), ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_recurrent_cells_at_the_top_level(name, gates, bias):
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(3, 5)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4)),
              rng.normal(size=(4 * gates, 5)), rng.normal(size=(4 * gates, 4)),
              rng.normal(size=4 * gates), rng.normal(size=4 * gates)]
    results = []
    for lib in (chainrule, torch):
        x, h, c, w_ih, w_hh, b_ih, b_hh = [lib.tensor(a, requires_grad=True) for a in arrays]
        state = (h, c) if name == "lstm_cell" else h
        out = getattr(lib, name)(x, state, w_ih, w_hh, *((b_ih, b_hh) if bias else ()))
        outs = out if isinstance(out, tuple) else (out,)
        sum(o.sin().sum() for o in outs).backward()
        results.append([*outs, x.grad, w_hh.grad, h.grad])
    for ours, theirs in zip(*results):
        assert_close(ours, theirs)
