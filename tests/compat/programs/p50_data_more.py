# More of torch.utils.data: ConcatDataset, SequentialSampler, BatchSampler as batch_sampler,
# a sampler given as a list, default_collate of nested structures, an IterableDataset.
import numpy as np
import torch
from torch.utils.data import (BatchSampler, ConcatDataset, DataLoader, IterableDataset, SequentialSampler,
                              TensorDataset)

a = TensorDataset(torch.arange(5.0).view(5, 1), torch.arange(5))
b = TensorDataset(torch.arange(10.0, 13.0).view(3, 1), torch.arange(10, 13))
both = ConcatDataset([a, b])
print(len(both), both[6], both.cumulative_sizes)
batches = [list(x) for x in DataLoader(both, batch_size=3)]
sampler = BatchSampler(SequentialSampler(both), batch_size=3, drop_last=True)
print(list(sampler))
via_batch_sampler = [y.tolist() for _, y in DataLoader(both, batch_sampler=sampler)]
reversed_order = [y.tolist() for _, y in DataLoader(both, sampler=list(range(len(both)))[::-1], batch_size=4)]


class Counter(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for i in range(self.n):
            yield {"i": i, "sq": torch.tensor([i * i, i + 0.5])}


stream = [(x["i"].tolist(), x["sq"]) for x in DataLoader(Counter(7), batch_size=3)]
nested = next(iter(DataLoader([{"a": (np.float64(i), [i, i + 1]), "b": torch.ones(2) * i} for i in range(4)],
                                batch_size=4)))
print(type(nested["a"]).__name__, len(nested["a"][1]))
results = {"batches": batches, "batch_sampler": via_batch_sampler, "reversed": reversed_order,
           "stream": [list(s) for s in stream], "nested_a0": nested["a"][0], "nested_a1": list(nested["a"][1]),
           "nested_b": nested["b"], "item6": list(both[6])}
