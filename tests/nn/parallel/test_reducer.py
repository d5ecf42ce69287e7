"""DistributedDataParallel's bucket assignment against PyTorch's, and the graph walk that
finds the parameters an output depends on (both need no process group)."""
from __future__ import annotations

import pytest
import torch
import torch.distributed

import chainrule
from chainrule.nn.parallel.reducer import Reducer, bucket_assignment, parameters_reached

MB = 1024 * 1024


@pytest.mark.parametrize("limits", [[MB, 25 * MB], [4000, 9000], [1]])
def test_buckets_match_pytorchs(limits):
    shapes = [(300, 200), (300,), (1000, 300), (10,), (50, 1000), (7, 7)]
    dtypes = [torch.float32, torch.float32, torch.float64, torch.float64, torch.float32, torch.float64]
    theirs = [torch.zeros(s, dtype=d) for s, d in zip(shapes, dtypes)]
    ours = [chainrule.zeros(s, dtype=getattr(chainrule, str(d).split(".")[1])) for s, d in zip(shapes, dtypes)]
    expected, _ = torch.distributed._compute_bucket_assignment_by_size(theirs, limits, [False] * len(theirs))
    assert bucket_assignment(ours, limits) == [list(b) for b in expected]


def test_parameters_reached_walks_next_functions():
    a = chainrule.nn.Linear(3, 2)
    b = chainrule.nn.Linear(3, 2)
    c = chainrule.nn.Linear(3, 2)
    x = chainrule.ones(4, 3)
    out = {"main": (a(x) * 2).relu(), "aux": [b(x)]}
    reached = parameters_reached(out)
    assert {id(a.weight), id(a.bias), id(b.weight), id(b.bias)} == reached
    assert id(c.weight) not in reached


def test_reducer_fills_buckets_from_the_last_parameter(monkeypatch):
    """Reverse registration order, the first bucket 1 MiB: a 784-512-512-10 MLP's last two
    layers (1 MiB and a little) form bucket 0, reduced while backward still runs."""
    monkeypatch.setattr(chainrule.distributed, "get_world_size", lambda group=None: 2)
    monkeypatch.setattr(chainrule.distributed, "get_rank", lambda group=None: 0)
    layers = [chainrule.nn.Linear(784, 512), chainrule.nn.Linear(512, 512), chainrule.nn.Linear(512, 10)]
    params = [p for layer in layers for p in layer.parameters()]
    reducer = Reducer(params, [str(i) for i in range(6)], [MB, 25 * MB], None, False, False)
    assert [bucket.indices for bucket in reducer.buckets] == [[5, 4, 3, 2], [1, 0]]
    reducer.remove()
