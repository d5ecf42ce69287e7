"""RandomSampler with replacement draws lazily: a huge ``num_samples`` costs nothing until
iterated, and iterating holds one chunk of indices at a time."""
from __future__ import annotations

import itertools
import tracemalloc

import chainrule
from chainrule.data import DataLoader, RandomSampler, TensorDataset


def test_ten_billion_draws_start_at_once_in_bounded_memory():
    dataset = TensorDataset(chainrule.arange(100))
    sampler = RandomSampler(dataset, replacement=True, num_samples=10**10)
    loader = DataLoader(dataset, batch_size=64, sampler=sampler)
    assert len(sampler) == 10**10 and len(loader) == -(-10**10 // 64)
    tracemalloc.start()
    try:
        batches = list(itertools.islice(loader, 3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # drawing all 10**10 indices at once would need 80 GB
    assert [tuple(b[0].shape) for b in batches] == [(64,)] * 3
    assert all(0 <= int(i) < 100 for b in batches for i in b[0])


def test_draws_across_chunks_are_reproducible_and_in_range():
    count = 2 * 1024 + 5
    draws = list(RandomSampler(range(7), replacement=True, num_samples=count,
                               generator=chainrule.Generator().manual_seed(1)))
    again = list(RandomSampler(range(7), replacement=True, num_samples=count,
                               generator=chainrule.Generator().manual_seed(1)))
    assert len(draws) == count and draws == again
    assert set(draws) == set(range(7))
