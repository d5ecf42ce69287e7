# Small things real programs reach for: torch.utils.data's submodule paths, a Dataset
# subclass, RandomSampler drawing "forever" with replacement, the default device, math
# constants on the torch namespace, torch.onnx's export check, and a TensorBoard writer.
import math
import tempfile

import numpy as np
import torch
import torch.onnx
from torch.utils.data.dataloader import DataLoader
from torch.utils.data.dataset import Dataset
from torch.utils.data.sampler import RandomSampler, SequentialSampler
from torch.utils.tensorboard import SummaryWriter


class Squares(Dataset):
    def __init__(self, n):
        self.x = torch.arange(n, dtype=torch.float64)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.x[i] ** 2


torch.set_default_device("cpu")
print(torch.get_default_device(), torch.onnx.is_in_onnx_export())
dataset = Squares(10)
endless = DataLoader(dataset, batch_size=4, sampler=RandomSampler(dataset, replacement=True, num_samples=10**10))
batches = []
for step, (x, y) in enumerate(endless):
    batches.append(bool(torch.equal(y, x * x)))
    if step == 4:
        break
print(len(endless), batches)
ordered = [y for _, y in DataLoader(dataset, batch_size=5, sampler=SequentialSampler(dataset))]

angle = torch.tensor([0.0, torch.pi / 2, torch.pi], dtype=torch.float64)
clipped = torch.clamp(torch.tensor([-torch.inf, 0.5, torch.inf]), min=-1.0, max=1.0)
print(math.isnan(torch.nan), torch.e == math.e, clipped)

with tempfile.TemporaryDirectory() as logdir:
    with SummaryWriter(logdir) as writer:
        for step, y in enumerate(ordered):
            writer.add_scalar("mean_square", y.mean().item(), step)
results = {"cos": torch.cos(angle), "clipped": clipped, "ordered": ordered, "log_e": torch.log(torch.tensor(torch.e))}
