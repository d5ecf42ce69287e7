# The blitz's autograd tour: requires_grad, grad of a mean, vector-Jacobian products,
# requires_grad_ on an existing tensor, no_grad, detach, a data-dependent loop.
import torch

x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y.grad_fn is not None, x.grad_fn is None)
z = y * y * 3
out = z.mean()
print(z.detach(), out.item())
a = torch.tensor([[1.5, -2.0], [0.25, 3.0]])
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn is not None)
out.backward()
print(x.grad)

x = torch.tensor([0.3, -1.2, 2.0], requires_grad=True)
y = x * 2
steps = 0
while y.data.norm() < 1000:
    y = y * 2
    steps += 1
print(steps)
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)
print(x.requires_grad, (x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
yd = x.detach()
print(yd.requires_grad, x.eq(yd).all())
results = {"x_grad": x.grad, "steps": steps, "out": out.detach()}
