"""An ordinary PyTorch DDP script, written for ``torchrun --nproc-per-node 2 ddp_torchrun.py``:
process group from the environment, DistributedSampler with set_epoch, DDP, the loss
all-reduced and gathered for logging, a barrier, LOCAL_RANK read from the environment.
Prints ``RESULT <json>`` on rank 0."""
import json
import os

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

GLOBAL_BATCH = 32


def main():
    dist.init_process_group(backend="gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(0)
    features = rng.standard_normal((256, 10))
    inputs = torch.from_numpy(features)
    targets = torch.from_numpy(np.argmax(features @ rng.standard_normal((10, 3)), axis=1))
    dataset = TensorDataset(inputs, targets)
    sampler = DistributedSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=GLOBAL_BATCH // world_size, sampler=sampler)

    model = nn.Sequential(nn.Linear(10, 32), nn.Tanh(), nn.Linear(32, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape))))
    ddp_model = DDP(model)
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    epoch_losses = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        running = torch.zeros(1)
        for batch, target in loader:
            optimizer.zero_grad()
            loss = loss_fn(ddp_model(batch), target)
            loss.backward()
            optimizer.step()
            running += loss.detach()
        dist.all_reduce(running, op=dist.ReduceOp.SUM)
        epoch_losses.append(running.item() / (world_size * len(loader)))

    with torch.no_grad():
        final = loss_fn(model(inputs), targets).reshape(1)
    everyone = [torch.zeros(1) for _ in range(world_size)]
    dist.all_gather(everyone, final)
    dist.barrier()
    if rank == 0:
        print("RESULT " + json.dumps({"world_size": world_size, "local_rank": local_rank, "final_loss": final.item(),
                                      "all_ranks": [t.item() for t in everyone], "epoch_losses": epoch_losses}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
