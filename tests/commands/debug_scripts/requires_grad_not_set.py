"""A weight created without requires_grad: the optimizer never moves it."""
import torch

from _net import batch

x, _ = batch(features=3)
target = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
w = torch.randn(3, 1)  # BUG
b = torch.zeros(1, requires_grad=True)
optimizer = torch.optim.SGD([w, b], lr=0.1)
for step in range(3):
    optimizer.zero_grad()
    loss = ((x @ w + b - target) ** 2).mean()
    loss.backward()
    optimizer.step()
