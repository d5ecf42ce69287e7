"""EmbeddingBag (nn/sparse.py) against PyTorch in float64: every mode, padding, per-sample
weights, offsets with and without the last one, 2-D bags; the weight's gradient; the module's
options, printing and errors; and the text-classification loop of PyTorch's tutorial."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from chainrule.compiler import Unsupported
from op_parity import check, raises_like_torch

RNG = np.random.default_rng(21)
WEIGHT = RNG.standard_normal((6, 3))
ENTRIES = np.array([1, 2, 5, 5, 3, 0, 2, 4])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("offsets,last", [([0, 2, 2, 5], False), ([0, 3, 8], True), ([0, 3, 3, 8], True), ([0], False)])
def test_bags_from_offsets(mode, padding_idx, offsets, last):
    check(lambda L, w: L.nn.functional.embedding_bag(L.tensor(ENTRIES), w, L.tensor(offsets), mode=mode,
                                                     padding_idx=padding_idx, include_last_offset=last), WEIGHT)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 0])
def test_bags_as_rows_of_a_2d_input(mode, padding_idx):
    entries = np.array([[1, 0, 4], [0, 0, 0], [5, 5, 2]])
    check(lambda L, w: L.nn.functional.embedding_bag(L.tensor(entries), w, mode=mode, padding_idx=padding_idx),
          WEIGHT)


def test_per_sample_weights():
    weights = RNG.uniform(0.1, 1.0, ENTRIES.shape)
    check(lambda L, w, p: L.nn.functional.embedding_bag(L.tensor(ENTRIES), w, L.tensor([0, 4]), mode="sum",
                                                        per_sample_weights=p, padding_idx=2), WEIGHT, weights)
    check(lambda L, w, p: L.nn.functional.embedding_bag(L.tensor(ENTRIES.reshape(2, 4)), w, mode="sum",
                                                        per_sample_weights=p), WEIGHT, weights.reshape(2, 4))


def test_empty_input_gives_zero_bags():
    check(lambda L, w: L.nn.functional.embedding_bag(L.tensor([], dtype=L.int64), w, L.tensor([0, 0]), mode="mean"),
          WEIGHT)


@pytest.mark.parametrize("make", [
    lambda L: L.nn.functional.embedding_bag(L.tensor([[1, 2]]), L.zeros(6, 3), L.tensor([0])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.zeros(6, 3)),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.zeros(6, 3), L.tensor([[0]])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([[[1]]]), L.zeros(6, 3)),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.zeros(6), L.tensor([0])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.zeros(6, 3), L.tensor([0]), mode="median"),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.zeros(6, 3), L.tensor([0]),
                                            per_sample_weights=L.ones(2)),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.zeros(6, 3), L.tensor([0]), mode="sum",
                                            per_sample_weights=L.ones(3)),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 9]), L.zeros(6, 3), L.tensor([0])),
    lambda L: L.nn.EmbeddingBag(4, 2, padding_idx=4),
])
def test_errors_like_torch(make):
    with pytest.raises(Exception) as theirs:
        make(torch)
    raises_like_torch(lambda: make(chainrule), lambda: make(torch), _first_words(theirs))


def _first_words(info) -> str:
    """PyTorch's message up to its first comma, chainrule's type names allowed."""
    return re.escape(str(info.value).split(",")[0][:50]).replace("torch\\.", "(?:torch|chainrule)\\.")


def test_module_prints_initialises_and_loads_like_torch():
    for kwargs in ({}, {"mode": "max", "padding_idx": -1, "max_norm": 1.0}, {"mode": "sum", "norm_type": 1.0}):
        assert repr(nn.EmbeddingBag(10, 3, **kwargs)) == repr(torch.nn.EmbeddingBag(10, 3, **kwargs))
    chainrule.manual_seed(0)
    bag = nn.EmbeddingBag(1000, 8, padding_idx=3)
    values = bag.weight.detach().numpy()
    assert abs(values.std() - 1.0) < 0.05 and not values[3].any()
    theirs = torch.nn.EmbeddingBag(1000, 8, padding_idx=3)
    bag.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert list(bag.state_dict()) == list(theirs.state_dict()) == ["weight"]
    entries, offsets = [5, 7, 3, 999], [0, 1]
    ours = bag(chainrule.tensor(entries), chainrule.tensor(offsets)).detach().numpy()
    expected = theirs(torch.tensor(entries), torch.tensor(offsets)).detach().numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
    frozen = nn.EmbeddingBag.from_pretrained(chainrule.tensor(WEIGHT), mode="sum")
    assert not frozen.weight.requires_grad and frozen.mode == "sum"
    assert nn.EmbeddingBag.from_pretrained(chainrule.tensor(WEIGHT), freeze=False).weight.requires_grad


def test_max_norm_renormalises_the_rows_used():
    def run(L):
        bag = L.nn.EmbeddingBag.from_pretrained(L.tensor(WEIGHT.copy()), max_norm=1.0, mode="sum")
        out = bag(L.tensor([0, 1, 1]), L.tensor([0, 2]))
        return out, bag.weight

    (ours, our_weight), (theirs, their_weight) = run(chainrule), run(torch)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(our_weight.detach().numpy(), their_weight.detach().numpy(), rtol=1e-12)


def test_offsets_stop_a_compiled_region_and_rows_do_not():
    bag = nn.EmbeddingBag.from_pretrained(chainrule.tensor(WEIGHT), freeze=False, mode="mean")
    rows = chainrule.compile(lambda x: bag(x).sum(), fullgraph=True)
    for entries in ([[1, 2], [3, 4]], [[0, 5], [5, 5]], [[2, 2], [1, 0]]):
        x = chainrule.tensor(entries)
        assert rows(x).item() == bag(x).sum().item()
    pieces = chainrule.compile(lambda x, o: bag(x, o).sum(), fullgraph=True)
    with pytest.raises(Unsupported, match="offsets"):
        pieces(chainrule.tensor([1, 2, 3]), chainrule.tensor([0, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the graph break's note)
        eager = chainrule.compile(lambda x, o: bag(x, o).sum())
        for offsets in ([0, 1], [0, 2], [0, 3]):
            x, o = chainrule.tensor([1, 2, 3]), chainrule.tensor(offsets)
            assert eager(x, o).item() == bag(x, o).sum().item()


def test_text_classification_tutorial_loop():
    """PyTorch's text-classification tutorial: EmbeddingBag (mean) and Linear over batches of
    token lists concatenated with offsets, SGD with gradient clipping, for a few steps: the same
    losses and weights as PyTorch's."""
    rng = np.random.default_rng(4)
    vocab, dim, classes = 40, 8, 4
    weight = rng.uniform(-0.5, 0.5, (vocab, dim))
    fc_weight = rng.uniform(-0.5, 0.5, (classes, dim))
    batches = []
    for _ in range(5):
        lengths = rng.integers(1, 7, 6)
        text = rng.integers(0, vocab, lengths.sum())
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        batches.append((text, offsets, rng.integers(0, classes, 6)))

    def train(L):
        class TextClassificationModel(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = L.nn.EmbeddingBag(vocab, dim, sparse=False)
                self.fc = L.nn.Linear(dim, classes)
                with L.no_grad():
                    self.embedding.weight.copy_(L.tensor(weight))
                    self.fc.weight.copy_(L.tensor(fc_weight))
                    self.fc.bias.zero_()

            def forward(self, text, offsets):
                return self.fc(self.embedding(text, offsets))

        model = TextClassificationModel().double()
        optimizer = L.optim.SGD(model.parameters(), lr=5.0)
        criterion = L.nn.CrossEntropyLoss()
        losses = []
        for text, offsets, label in batches:
            optimizer.zero_grad()
            loss = criterion(model(L.tensor(text), L.tensor(offsets)), L.tensor(label))
            loss.backward()
            L.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            losses.append(loss.item())
        return losses, model.embedding.weight.detach().numpy()

    (our_losses, ours), (their_losses, theirs) = train(chainrule), train(torch)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-10)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("offsets", [[1], [0, 5], [0, 2, 1]])
def test_bad_offsets_are_refused(offsets):
    if offsets != [0, 2, 1]:  # (decreasing offsets: PyTorch reads past its buffer, and may not notice)
        with pytest.raises(RuntimeError):
            torch.nn.functional.embedding_bag(torch.tensor([1, 2, 3]), torch.eye(4), torch.tensor(offsets))
    with pytest.raises(RuntimeError, match="offsets"):
        chainrule.nn.functional.embedding_bag(chainrule.tensor([1, 2, 3]), chainrule.eye(4), chainrule.tensor(offsets))


# -- sparse=True: the weight's gradient is PyTorch's COO tensor of the rows used ---------------------
def _sparse_grads(make, calls):
    grads = []
    for lib in (chainrule, torch):
        module = make(lib)
        with lib.no_grad():
            module.weight.copy_(lib.tensor(WEIGHT))
        for call in calls:
            call(lib, module)
        grads.append(module.weight.grad)
    return grads


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_sparse_gradient_is_torchs_coo_tensor(padding_idx):
    rows = np.array([[1, 2, 5], [5, 0, 1]])
    ours, theirs = _sparse_grads(
        lambda L: L.nn.Embedding(6, 3, padding_idx=padding_idx, sparse=True, dtype=L.float64),
        [lambda L, m: (m(L.tensor(rows)) ** 2).sum().backward()])
    assert ours.is_sparse and not ours.is_coalesced()
    np.testing.assert_array_equal(ours._indices().numpy(), theirs._indices().numpy())
    np.testing.assert_array_equal(ours._values().numpy(), theirs._values().numpy())
    assert tuple(ours.shape) == tuple(theirs.shape)


def test_sparse_gradients_accumulate_and_meet_dense_ones_as_in_torch():
    ours, theirs = _sparse_grads(
        lambda L: L.nn.Embedding(6, 3, sparse=True, dtype=L.float64),
        [lambda L, m: m(L.tensor([1, 1, 4])).sum().backward(),
         lambda L, m: (m(L.tensor([[0, 4]])) * 3).sum().backward()])
    assert ours.is_sparse
    np.testing.assert_array_equal(ours.coalesce()._indices().numpy(), theirs.coalesce()._indices().numpy())
    np.testing.assert_array_equal(ours.coalesce()._values().numpy(), theirs.coalesce()._values().numpy())
    ours, theirs = _sparse_grads(
        lambda L: L.nn.Embedding(6, 3, sparse=True, dtype=L.float64),
        [lambda L, m: m(L.tensor([1, 1, 4])).sum().backward(),
         lambda L, m: (m.weight * 2).sum().backward()])
    assert not ours.is_sparse
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_embedding_bag_sparse_gradient_matches_torch():
    ours, theirs = _sparse_grads(
        lambda L: L.nn.EmbeddingBag(6, 3, mode="mean", sparse=True, dtype=L.float64),
        [lambda L, m: (m(L.tensor(ENTRIES), L.tensor([0, 3, 3])) ** 2).sum().backward()])
    assert ours.is_sparse
    np.testing.assert_allclose(ours.to_dense().numpy(), theirs.to_dense().numpy(), rtol=1e-12)


def test_sparse_gradient_errors_and_padding_only_rows_match_torch():
    messages = []
    for lib in (chainrule, torch):
        module = lib.nn.Embedding(6, 3, sparse=True, scale_grad_by_freq=True)
        with pytest.raises(RuntimeError) as caught:
            module(lib.tensor([1, 2])).sum().backward()
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    ours, theirs = _sparse_grads(lambda L: L.nn.Embedding(6, 3, padding_idx=0, sparse=True, dtype=L.float64),
                                 [lambda L, m: m(L.tensor([0, 0])).sum().backward()])
    assert ours._nnz() == theirs._nnz() == 0 and tuple(ours._indices().shape) == (1, 0)
