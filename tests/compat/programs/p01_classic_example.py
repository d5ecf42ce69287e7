# The tutorial's classic example: one weight, one input, one target.
import torch

w = torch.tensor([2.0], requires_grad=True)
x = torch.tensor([5.0])
y_actual = torch.tensor([12.0])

y_pred = w * x
loss = (y_actual - y_pred) ** 2
print(f"Prediction: {y_pred.item()}")
print(f"Loss: {loss.item()}")
loss.backward()
print(f"Gradient of loss w.r.t w: {w.grad}")

with torch.no_grad():
    w -= 0.01 * w.grad
print(w)
new_loss = (y_actual - w * x) ** 2
print(f"New loss: {new_loss.item():.4f}")
print(w.requires_grad, w.grad.requires_grad, w.is_leaf, y_pred.is_leaf)

results = {"loss": loss.detach(), "grad": w.grad, "w": w.detach(), "new_loss": new_loss.item()}
