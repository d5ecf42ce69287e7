"""Shared by the planted-bug scripts: a batch of data drawn with NumPy (so that PyTorch and
chainrule see the same numbers), the usual training loop, and a two-layer network."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def batch(n=32, features=16, classes=4, dtype=torch.float32):
    rng = np.random.default_rng(0)
    return (torch.tensor(rng.standard_normal((n, features)), dtype=dtype),
            torch.tensor(rng.integers(0, classes, n)))


def train(model, optimizer=None, steps=3, dtype=torch.float32):
    x, y = batch(dtype=dtype)
    optimizer = optimizer or torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    return loss


class TwoLayers(nn.Module):
    """fc1 (16 -> 32) and fc2 (32 -> 4): each script writes its own forward."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)
