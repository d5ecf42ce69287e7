"""Manual gradient descent that rebinds w outside no_grad: w stops being a leaf."""
import torch

from _net import batch

x, _ = batch(features=3)
target = x @ torch.tensor([[1.0], [-2.0], [0.5]])
w = torch.zeros(3, 1, requires_grad=True)
lr = 0.1
for step in range(3):
    loss = ((x @ w - target) ** 2).mean()
    loss.backward()
    w = w - lr * w.grad  # BUG
print(f"loss {loss.item():.4f}")
