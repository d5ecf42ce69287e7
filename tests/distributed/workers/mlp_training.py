"""SGD-momentum training of a 64-128-128-10 MLP on a fixed stream of global batches, three ways,
writing the final weights (``--out`` .npz) and reporting their sha256 per rank:

- ``ddp``: under ``mpiexec -n W``, each rank takes its contiguous share of every global batch
  and DistributedDataParallel averages the gradients;
- ``accumulate``: one process runs the W shares one after another, each loss scaled by 1/W,
  and steps once (what DDP must reproduce bit for bit);
- ``full``: one process on the whole global batch (equal to rounding: the GEMMs sum the
  batch in another order).

    mpiexec -n 2 python mlp_training.py ddp --dtype float64 --steps 640 --out ddp.npz
"""
import argparse
import hashlib

import numpy as np

import chainrule as torch
from chainrule import nn
from report import report

GLOBAL_BATCH = 32


def mlp(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))


def batches(steps: int, dtype):
    rng = np.random.default_rng(1234)
    for _ in range(steps):
        x = torch.from_numpy(rng.standard_normal((GLOBAL_BATCH, 64))).to(dtype)
        yield x, torch.from_numpy(rng.integers(0, 10, GLOBAL_BATCH))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("ddp", "accumulate", "full"))
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--shares", type=int, default=2, help="micro-batches per step in accumulate mode")
    parser.add_argument("--out")
    args = parser.parse_args()
    dtype = getattr(torch, args.dtype)
    torch.set_default_dtype(dtype)
    rank, world = 0, 1
    if args.mode == "ddp":
        torch.distributed.init_process_group("gloo")
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
        # Each rank starts from different weights: DDP must hand rank 0's to everyone.
        model = nn.parallel.DistributedDataParallel(mlp(seed=rank))
    else:
        model = mlp(seed=0)
    shares = world if args.mode == "ddp" else args.shares if args.mode == "accumulate" else 1
    size = GLOBAL_BATCH // shares
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for x, y in batches(args.steps, dtype):
        optimizer.zero_grad()
        if args.mode == "ddp":
            part = slice(rank * size, (rank + 1) * size)
            nn.functional.cross_entropy(model(x[part]), y[part]).backward()
        else:
            for share in range(shares):
                part = slice(share * size, (share + 1) * size)
                (nn.functional.cross_entropy(model(x[part]), y[part]) * (1.0 / shares)).backward()
        optimizer.step()
    module = model.module if args.mode == "ddp" else model
    weights = {name: p.detach().numpy() for name, p in module.named_parameters()}
    digest = hashlib.sha256(b"".join(w.tobytes() for w in weights.values())).hexdigest()
    if args.out and rank == 0:
        np.savez(args.out, **weights)
    report(rank, world=world, sha256=digest)


if __name__ == "__main__":
    main()
