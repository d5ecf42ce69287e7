"""DistributedSampler against PyTorch's: the same padding and interleaved split (each rank's
index list equal with shuffle=False), and a shuffled order fixed by seed + epoch, identical
across ranks and partitioning the dataset."""
from __future__ import annotations

import pytest
from torch.utils.data.distributed import DistributedSampler as TorchSampler

import chainrule
from chainrule.data import DistributedSampler


@pytest.mark.parametrize("size", [1, 5, 10, 11, 16])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_indices_equal_pytorchs(size, replicas, drop_last):
    data = list(range(size))
    for rank in range(replicas):
        ours = DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(data, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert (len(ours), ours.num_samples, ours.total_size) == (len(theirs), theirs.num_samples, theirs.total_size)


@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_order_is_fixed_by_seed_and_epoch_and_shared_by_the_ranks(drop_last):
    data = list(range(23))
    samplers = [DistributedSampler(data, num_replicas=3, rank=r, seed=5, drop_last=drop_last) for r in range(3)]
    first = [list(s) for s in samplers]
    assert first == [list(DistributedSampler(data, num_replicas=3, rank=r, seed=5, drop_last=drop_last))
                     for r in range(3)]
    covered = sorted(i for part in first for i in part)
    if drop_last:
        assert len(covered) == 21 and len(set(covered)) == 21
    else:  # every index once, plus the padding taken from the order's start
        assert set(covered) == set(data) and len(covered) == 24
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first and sorted(i for p in second for i in p) != [] and len(second[0]) == len(first[0])
    assert [list(DistributedSampler(data, num_replicas=3, rank=0, seed=6, drop_last=drop_last))] != [first[0]]


def test_same_object_under_every_name():
    assert chainrule.utils.data.distributed.DistributedSampler is DistributedSampler
    assert chainrule.utils.data.DistributedSampler is DistributedSampler


def test_bad_rank():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
