"""The four steps of training, one iteration at a time: forward pass, loss, backward pass
(backpropagation), weight update.  A single neuron learns y = 3x + 1.

Run: python examples/01_four_training_steps.py
"""
import chainrule as torch

torch.manual_seed(0)
x = torch.linspace(0, 1, 20).reshape(-1, 1)
y_actual = 3 * x + 1

w = torch.tensor([0.5], requires_grad=True)
b = torch.tensor([0.0], requires_grad=True)
lr = 0.5

for step in range(1, 201):
    y_pred = w * x + b                           # 1. forward pass: the prediction
    loss = ((y_actual - y_pred) ** 2).mean()     # 2. loss: how wrong it is
    loss.backward()                              # 3. backward pass: dL/dw and dL/db
    with torch.no_grad():                        # 4. update: a small step against the gradient
        w -= lr * w.grad
        b -= lr * b.grad
    if step <= 3 or step % 50 == 0:
        print(f"step {step:2d}: loss {loss.item():.5f}  dL/dw {w.grad.item():+.4f}  dL/db {b.grad.item():+.4f}"
              f"  ->  w {w.item():.4f}, b {b.item():.4f}")
    w.grad.zero_()
    b.grad.zero_()

print(f"learned y = {w.item():.3f} x + {b.item():.3f}   (target: y = 3 x + 1)")
