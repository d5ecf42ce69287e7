# Pre-0.4 style: updates through .data, gradients zeroed through .grad.data.
import numpy as np
import torch

rng = np.random.default_rng(1)
x = torch.from_numpy(rng.standard_normal((32, 3)))          # float64, as NumPy gives
true_w = torch.tensor([[1.5], [-2.0], [0.5]], dtype=torch.float64)
y = x.mm(true_w) + 0.3

w = torch.from_numpy(rng.standard_normal((3, 1))).requires_grad_()
b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
learning_rate = 0.05
for t in range(60):
    y_pred = x.mm(w) + b
    loss = (y_pred - y).pow(2).sum() / x.size(0)
    if t % 15 == 0:
        print(t, loss.item())
    loss.backward()
    w.data -= learning_rate * w.grad.data
    b.data -= learning_rate * b.grad.data
    w.grad.data.zero_()
    b.grad.data.zero_()

print(w.data.view(-1).tolist())
results = {"w": w.data, "b": b.detach(), "loss": loss.item(), "w_is_leaf": w.is_leaf,
           "data_requires_grad": w.data.requires_grad}
