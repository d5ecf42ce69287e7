"""Data-parallel training of a digits classifier: an ordinary PyTorch DDP script.

Run:  pip install -e ".[distributed]" && mpiexec -n 2 python examples/ddp_digits.py

Each process trains a replica on its share of every batch (DistributedSampler); backward
averages the gradients across processes (DistributedDataParallel), so every replica takes
the step one process would take on the whole batch of 64. The only chainrule line is the
import: with `import torch` instead, this file runs unchanged under
`torchrun --nproc-per-node 2 examples/ddp_digits.py`.
"""
import importlib.resources
import os

import numpy as np

import chainrule as torch

dist = torch.distributed
nn = torch.nn
GLOBAL_BATCH = 64


def load_digits():
    """The 1,797 8x8 digits that ship inside chainrule, as float32 pixels in [0, 1]."""
    with importlib.resources.as_file(importlib.resources.files("chainrule") / "data" / "digits.npz") as path:
        with np.load(path) as data:
            images = data["images"].reshape(-1, 64).astype(np.float32) / 16
            labels = data["labels"].astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    return torch.from_numpy(images[order]), torch.from_numpy(labels[order])


def main():
    dist.init_process_group(backend="gloo")  # started by mpiexec (chainrule) or torchrun (PyTorch)
    rank, world_size = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.manual_seed(0)

    images, labels = load_digits()
    train_set = torch.utils.data.TensorDataset(images[:1536], labels[:1536])
    sampler = torch.utils.data.distributed.DistributedSampler(train_set, shuffle=True, seed=0)
    loader = torch.utils.data.DataLoader(train_set, batch_size=GLOBAL_BATCH // world_size, sampler=sampler)

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    ddp_model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    if rank == 0:
        print(f"{world_size} processes (this one: rank {rank}, local rank {local_rank}), "
              f"{len(loader)} batches of {GLOBAL_BATCH // world_size} per process and epoch")

    for epoch in range(1, 11):
        sampler.set_epoch(epoch)
        totals = torch.zeros(3)  # loss sum, correct, samples: summed over the processes below
        for batch, target in loader:
            optimizer.zero_grad()
            logits = ddp_model(batch)
            loss = loss_fn(logits, target)
            loss.backward()  # the gradients are averaged across processes here
            optimizer.step()
            totals += torch.tensor([loss.item() * len(target), (logits.argmax(1) == target).sum().item(),
                                    len(target)])
        dist.all_reduce(totals)
        if rank == 0:
            print(f"epoch {epoch:2d}  loss {totals[0] / totals[2]:.4f}  train accuracy {totals[1] / totals[2]:.2%}")

    dist.barrier()
    if rank == 0:
        with torch.no_grad():
            accuracy = (model(images[1536:]).argmax(1) == labels[1536:]).float().mean().item()
        print(f"test accuracy {accuracy:.2%} on {len(labels) - 1536} held-out digits")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
