"""The ``mp.spawn`` form of a PyTorch DDP script: ``python ddp_spawn.py [world_size]`` starts one
worker per rank, each setting MASTER_ADDR/MASTER_PORT and joining with an explicit rank.
Prints ``RESULT <json>`` from rank 0."""
import json
import os
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F


def worker(rank, world_size, steps):
    os.environ["MASTER_ADDR"] = "localhost"
    os.environ["MASTER_PORT"] = "12355"
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(7)
    x = torch.from_numpy(rng.standard_normal((steps, 24, 5)))
    w_true = torch.from_numpy(rng.standard_normal((5, 1)))
    model = nn.Linear(5, 1)
    model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    share = 24 // world_size
    for step in range(steps):
        rows = x[step, rank * share:(rank + 1) * share]
        optimizer.zero_grad()
        loss = F.mse_loss(model(rows), rows @ w_true)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        every = x.reshape(-1, 5)
        final = F.mse_loss(model(every), every @ w_true).item()
    if rank == 0:
        print("RESULT " + json.dumps({"world_size": world_size, "final_loss": final}))
    dist.destroy_process_group()


if __name__ == "__main__":
    world_size = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    mp.spawn(worker, args=(world_size, 40), nprocs=world_size, join=True)
