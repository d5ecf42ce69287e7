"""Euclidean distances between pairs that can coincide: sqrt at 0 is fine forward, infinite backward."""
import torch
import torch.nn as nn

from _net import batch

x, _ = batch()
encoder = nn.Linear(16, 8)
optimizer = torch.optim.SGD(encoder.parameters(), lr=0.1)
for step in range(2):
    a = encoder(x)
    b = encoder(torch.cat([x[:16], x[16:] + 1.0]))
    distance = torch.sqrt(((a - b) ** 2).sum(dim=1))  # BUG
    loss = distance.mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
