"""DistributedDataParallel's features on this rank, each reported as values the test checks:
state broadcast, buffer sync before forward, no_sync, find_unused_parameters (globally and
locally unused parameters), several buckets, gradient_as_bucket_view, state_dict keys."""
import copy

import numpy as np

import chainrule as torch
from chainrule import nn
from report import report

dist = torch.distributed
DDP = nn.parallel.DistributedDataParallel


def data(rank: int, rows: int = 8):
    rng = np.random.default_rng(100 + rank)
    return torch.from_numpy(rng.standard_normal((rows, 6))), torch.from_numpy(rng.integers(0, 3, rows))


def net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def grads(module: nn.Module) -> list:
    return [None if p.grad is None else p.grad.tolist() for p in module.parameters()]


def gathered(values: np.ndarray) -> list:
    """Every rank's copy of ``values`` (to compare replicas)."""
    out = [torch.zeros(values.size, dtype=torch.float64) for _ in range(dist.get_world_size())]
    dist.all_gather(out, torch.from_numpy(values.reshape(-1).astype(np.float64)))
    return [o.tolist() for o in out]


class Branches(nn.Module):
    """``used`` always, ``never`` not at all, ``odd`` only on odd ranks."""

    def __init__(self) -> None:
        super().__init__()
        self.used = nn.Linear(6, 3)
        self.never = nn.Linear(6, 3)
        self.odd = nn.Linear(6, 3)

    def forward(self, x):
        out = self.used(x)
        return out + self.odd(x) if dist.get_rank() % 2 else out


def main() -> None:
    torch.set_default_dtype(torch.float64)
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    x, y = data(rank)
    results = {}

    # Construction: rank 0's parameters and buffers everywhere.
    inner = net(seed=rank)
    inner[1].running_mean.fill_(float(rank))
    model = DDP(inner)
    results["state_after_init"] = gathered(np.concatenate([t.numpy().reshape(-1) for t in inner.state_dict().values()]))
    results["state_dict_keys"] = list(model.state_dict())[:3]

    # Buffers: broadcast from rank 0 before every forward (seen by a pre-hook on the inner module).
    seen = []
    inner.register_forward_pre_hook(lambda module, args: seen.append(module[1].running_mean.numpy().copy()))
    for _ in range(2):
        nn.functional.cross_entropy(model(x), y).backward()
    results["buffers_before_forward"] = [gathered(s) for s in seen]

    # no_sync: local accumulation, bitwise what the bare module accumulates.
    twin = copy.deepcopy(inner)
    model.zero_grad()
    twin.zero_grad()
    with model.no_sync():
        for _ in range(2):
            nn.functional.cross_entropy(model(x), y).backward()
    for _ in range(2):
        nn.functional.cross_entropy(twin(x), y).backward()
    results["no_sync_equal_local"] = all(np.array_equal(a.grad.numpy(), b.grad.numpy())
                                         for a, b in zip(inner.parameters(), twin.parameters()))
    # The next synced backward reduces the accumulated gradients: mean over ranks of 3 backwards.
    nn.functional.cross_entropy(model(x), y).backward()
    nn.functional.cross_entropy(twin(x), y).backward()
    expected = []
    for p in twin.parameters():
        g = p.grad.clone()
        dist.all_reduce(g)
        expected.append(g / dist.get_world_size())
    results["after_no_sync_synced"] = all(np.array_equal(a.grad.numpy(), e.numpy())
                                          for a, e in zip(inner.parameters(), expected))

    # Several buckets, and gradients as views of them: the same values as one bucket.
    by_bucket = {}
    for name, options in (("one", {}), ("many", {"bucket_cap_mb": 0.0002}),
                          ("views", {"bucket_cap_mb": 0.0002, "gradient_as_bucket_view": True})):
        m = DDP(net(seed=0), **options)
        for _ in range(2):
            m.zero_grad()
            nn.functional.cross_entropy(m(x), y).backward()
        by_bucket[name] = grads(m.module)
        results[f"buckets_{name}"] = len(m.reducer.buckets)
    results["bucketing_same_values"] = by_bucket["one"] == by_bucket["many"] == by_bucket["views"]

    # find_unused_parameters: `never` keeps no gradient, `odd` gets rank 1's gradient / 2.
    branches = DDP(Branches(), find_unused_parameters=True)
    for _ in range(2):  # the second iteration must not complain about the first
        branches.zero_grad()
        branches(x).sum().backward()
    local = Branches()
    local.load_state_dict(branches.module.state_dict())
    local.odd.weight.grad = None
    out = local.used(x) + local.odd(x)
    out.sum().backward()
    results["never_grad"] = branches.module.never.weight.grad is None
    results["odd_grad"] = branches.module.odd.weight.grad.tolist()
    results["odd_local_grad"] = local.odd.weight.grad.tolist()  # what this rank would give if it used `odd`
    report(rank, **results)


if __name__ == "__main__":
    main()
