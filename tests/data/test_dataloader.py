"""Datasets, samplers and DataLoader against torch.utils.data."""
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule
from chainrule.data import (
    BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler, SequentialSampler,
    StackDataset, Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate, random_split,
)
from conftest import assert_close


def pair_datasets(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n) % 4
    return (TensorDataset(chainrule.tensor(x), chainrule.tensor(y)),
            tud.TensorDataset(torch.tensor(x), torch.tensor(y)))


def assert_same_batches(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert type(a) is type(b)
        assert len(a) == len(b)
        for u, v in zip(a, b):
            assert u.dtype == chainrule.float32 if v.dtype == torch.float32 else u.dtype == chainrule.int64
            assert_close(u, v)


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 16])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches_match_torch(batch_size, drop_last):
    ours, theirs = pair_datasets(10)
    a = DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    b = tud.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(a) == len(b)
    assert_same_batches(a, b)


def test_explicit_sampler_order_matches_torch():
    ours, theirs = pair_datasets(10)
    order = [7, 2, 9, 0, 0, 5, 3]
    assert_same_batches(DataLoader(ours, batch_size=3, sampler=order),
                        tud.DataLoader(theirs, batch_size=3, sampler=order))
    batches = [[1, 2], [9], [4, 0, 3]]
    assert_same_batches(DataLoader(ours, batch_sampler=batches), tud.DataLoader(theirs, batch_sampler=batches))


def test_subset_of_tensor_dataset_uses_subset_rows():
    ours, theirs = pair_datasets(10)
    inner = [9, 8, 7, 6, 5, 4]
    a = Subset(Subset(ours, inner), [5, 0, 2])
    b = tud.Subset(tud.Subset(theirs, inner), [5, 0, 2])
    assert_same_batches(DataLoader(a, batch_size=2), tud.DataLoader(b, batch_size=2))


class Squares(Dataset):
    """A map-style dataset with mixed samples: goes through the per-item collation."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float32), "y": i, "w": float(i) / 2, "name": f"s{i}"}


class TorchSquares(tud.Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return Squares()[i]


def test_default_collate_matches_torch_on_mixed_samples():
    ours = list(DataLoader(Squares(), batch_size=2))
    theirs = list(tud.DataLoader(TorchSquares(), batch_size=2))
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        assert set(a) == set(b)
        for key in ("x", "y", "w"):
            assert a[key].dtype.name == str(b[key].dtype).replace("torch.", "")
            assert_close(a[key], b[key])
        assert a["name"] == b["name"]


def test_default_collate_containers():
    Point = namedtuple("Point", "x y")
    out = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(out, Point) and out.x.tolist() == [1, 3] and out.y.dtype == chainrule.float64
    lists = default_collate([[1, 2], [3, 4]])
    assert isinstance(lists, list) and [t.tolist() for t in lists] == [[1, 3], [2, 4]]
    assert default_collate([True, False]).dtype == chainrule.bool
    stacked = default_collate([chainrule.ones(2, 3), chainrule.zeros(2, 3)])
    assert stacked.shape == (2, 2, 3)
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([chainrule.ones(2), chainrule.ones(3)])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


def test_batch_size_none_yields_samples_unbatched():
    ours, _ = pair_datasets(4)
    items = list(DataLoader(ours, batch_size=None))
    assert len(items) == 4 and items[2][0].shape == (3,) and items[2][1].item() == 2


def test_shuffle_is_a_permutation_and_seeded():
    ours, _ = pair_datasets(50)

    def order(seed):
        loader = DataLoader(ours, batch_size=8, shuffle=True, generator=chainrule.Generator().manual_seed(seed))
        return [int(v) for _, y in loader for v in y.tolist()], [int(r[0]) // 3 for x, _ in loader for r in x.tolist()]

    first = order(0)[1]
    assert sorted(first) == list(range(50)) and first != list(range(50))
    assert order(0)[1] == first and order(1)[1] != first


def test_shuffle_without_generator_follows_manual_seed():
    ours, _ = pair_datasets(30)
    loader = DataLoader(ours, batch_size=30, shuffle=True)
    chainrule.manual_seed(3)
    a = [next(iter(loader))[0][:, 0].tolist() for _ in range(2)]
    chainrule.manual_seed(3)
    b = [next(iter(loader))[0][:, 0].tolist() for _ in range(2)]
    assert a == b and a[0] != a[1]  # same seed, same epochs; each epoch a new order


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = chainrule.Generator().manual_seed(0)
    assert sorted(RandomSampler(range(6), generator=g)) == list(range(6))
    draws = list(RandomSampler(range(6), num_samples=14, generator=g))
    assert len(draws) == 14 and sorted(draws[:12]) == sorted(list(range(6)) * 2)
    with_replacement = list(RandomSampler(range(3), replacement=True, num_samples=20, generator=g))
    assert len(with_replacement) == 20 and set(with_replacement) <= {0, 1, 2}
    assert sorted(SubsetRandomSampler([5, 7, 9], generator=g)) == [5, 7, 9]
    weighted = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50, generator=g))
    assert set(weighted) == {1, 3}
    assert list(BatchSampler(range(5), 2, False)) == list(tud.BatchSampler(range(5), 2, False))
    assert list(BatchSampler(range(5), 2, True)) == list(tud.BatchSampler(range(5), 2, True))
    assert len(BatchSampler(range(5), 2, True)) == 2 and len(BatchSampler(range(5), 2, False)) == 3
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(5), 0, False)


@pytest.mark.parametrize("weights", [[-1.0, 1.0], [0.0, 0.0], [1.0, float("nan")], [1.0, float("inf")]])
def test_weighted_sampler_refuses_bad_weights_when_drawn_as_pytorch(weights):
    messages = []
    for lib in (torch, chainrule):
        sampler = lib.utils.data.WeightedRandomSampler(weights, 2)  # (accepted: the draw refuses)
        with pytest.raises(RuntimeError) as raised:
            list(sampler)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]


def test_weighted_sampler_draws_pytorchs_indices():
    draws = []
    for lib in (torch, chainrule):
        lib.manual_seed(3)
        draws.append([list(lib.utils.data.WeightedRandomSampler([0.1, 0.5, 0.4, 2.0], 12)),
                      list(lib.utils.data.WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False))])
    assert draws[0] == draws[1]


def test_dataloader_argument_errors_match_torch():
    ours, theirs = pair_datasets(4)
    cases = [dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
             dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True)]
    for kwargs in cases:
        with pytest.raises(ValueError) as expected:
            tud.DataLoader(theirs, **kwargs)
        with pytest.raises(ValueError) as actual:
            DataLoader(ours, **kwargs)
        assert str(actual.value) == str(expected.value)


def test_random_split_lengths_and_fractions():
    ours, _ = pair_datasets(10)
    a, b = random_split(ours, [7, 3], generator=chainrule.Generator().manual_seed(0))
    assert len(a) == 7 and len(b) == 3
    assert sorted(a.indices + b.indices) == list(range(10))
    parts = random_split(range(10), [0.5, 0.3, 0.2], generator=chainrule.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [len(p) for p in tud.random_split(range(10), [0.5, 0.3, 0.2])]
    uneven = random_split(range(11), [0.5, 0.5], generator=chainrule.Generator().manual_seed(0))
    assert [len(p) for p in uneven] == [6, 5]
    again = random_split(range(10), [0.5, 0.3, 0.2], generator=chainrule.Generator().manual_seed(0))
    assert [p.indices for p in again] == [p.indices for p in parts]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])


def test_tensor_and_concat_datasets():
    x, y = chainrule.arange(6).reshape(3, 2), chainrule.tensor([1, 2, 3])
    ds = TensorDataset(x, y)
    assert len(ds) == 3 and ds[1][0].tolist() == [2, 3] and ds[-1][1].item() == 3
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(x, chainrule.zeros(4))
    both = ds + TensorDataset(x * 10, y * 10)
    assert isinstance(both, ConcatDataset) and len(both) == 6
    assert both[4][1].item() == 20 and both[-1][1].item() == 30
    with pytest.raises(IndexError):
        both[6]


def _leaves(batch):
    if isinstance(batch, dict):
        return [(k, *leaf) for k in batch for leaf in _leaves(batch[k])]
    if isinstance(batch, (list, tuple)):
        return [(i, *leaf) for i, b in enumerate(batch) for leaf in _leaves(b)]
    return [(batch.tolist(),)]


def test_stack_dataset_tuples_and_dicts_like_torch():
    (ours, theirs), (ours2, theirs2) = pair_datasets(6), pair_datasets(6)
    for make in (lambda lib, a, b: lib.StackDataset(a, b), lambda lib, a, b: lib.StackDataset(a=a, b=range(6))):
        mine = [_leaves(b) for b in DataLoader(make(chainrule.data, ours, ours2), batch_size=4)]
        assert mine == [_leaves(b) for b in tud.DataLoader(make(tud, theirs, theirs2), batch_size=4)]
    stacked = StackDataset(a=ours, b=range(6))
    assert len(stacked) == 6 and stacked[2]["b"] == 2 and [s["b"] for s in stacked.__getitems__([1, 3])] == [1, 3]
    for args, kwargs, message in (((ours, TensorDataset(chainrule.ones(2))), {}, "Size mismatch between datasets"),
                                  ((), {}, "At least one dataset should be passed"),
                                  ((ours,), {"b": ours}, "both types are given")):
        with pytest.raises(ValueError, match=message):
            StackDataset(*args, **kwargs)


def test_chain_dataset_reads_its_streams_in_turn():
    class Stream(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    chained = ChainDataset([Stream(2), Stream(3)])
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    assert [b.tolist() for b in DataLoader(chained, batch_size=2)] == [[0, 1], [0, 1], [2]]
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(ChainDataset([range(3)]))


def test_iterable_dataset_batches():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)


def test_custom_collate_fn_and_requires_grad_rows():
    x = chainrule.randn(6, 2, requires_grad=True)
    ds = TensorDataset(x, chainrule.arange(6))
    (xb, _), = [next(iter(DataLoader(ds, batch_size=4, sampler=[5, 1, 0, 3])))]
    xb.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    sizes = list(DataLoader(ds, batch_size=4, collate_fn=len))
    assert sizes == [4, 2]
