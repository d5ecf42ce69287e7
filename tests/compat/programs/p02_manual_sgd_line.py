# Fit y = 3x + 2 with plain tensors and a hand-written SGD step.
import numpy as np
import torch

rng = np.random.default_rng(0)
x_np = rng.uniform(-1, 1, size=(64, 1))
y_np = 3 * x_np + 2 + 0.1 * rng.standard_normal((64, 1))
x = torch.tensor(x_np, dtype=torch.float32)
y = torch.tensor(y_np, dtype=torch.float32)

w = torch.zeros(1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.1
losses = []
for step in range(100):
    y_hat = x * w + b
    loss = ((y_hat - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    losses.append(loss.item())
    if step % 20 == 0:
        print(f"step {step:3d}  loss {loss.item():.5f}  w {w.item():.4f}  b {b.item():.4f}")

print("final", round(w.item(), 3), round(b.item(), 3))
results = {"w": w.detach(), "b": b.detach(), "losses": losses, "grad_after_zero": w.grad}
