# Autograd bookkeeping people rely on: accumulation, detach, no_grad, requires_grad_,
# retain_graph, backward with a gradient argument, grad of non-leaves.
import numpy as np
import torch

rng = np.random.default_rng(26)
x = torch.tensor(rng.standard_normal(3), requires_grad=True)
r = {}
y = (x ** 2).sum()
y.backward(retain_graph=True)
first = x.grad.clone()
y.backward()
r["accumulated"] = x.grad                   # twice the first gradient
r["first"] = first
x.grad.zero_()
z = x * 3
z.backward(torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64))
r["vector_backward"] = x.grad.clone()
d = x.detach()
r["detach"] = [d.requires_grad, d.grad_fn is None, x.grad_fn is None]
with torch.no_grad():
    n = x * 2
r["no_grad"] = [n.requires_grad, torch.is_grad_enabled()]
with torch.enable_grad():
    e = x * 2
r["enable_grad"] = e.requires_grad
torch.set_grad_enabled(False)
off = x * 2
torch.set_grad_enabled(True)
r["set_grad_enabled"] = off.requires_grad


@torch.no_grad()
def evaluate(t):
    return t * 10


r["decorated"] = evaluate(x).requires_grad
a = torch.tensor(rng.standard_normal(3))
r["requires_grad_default"] = a.requires_grad
a.requires_grad_()
b = (a * x).sum()
r["grads"] = torch.autograd.grad(b, [a, x])
r["leaf"] = [a.is_leaf, b.is_leaf, x.is_leaf]
s = x.sum()
s.backward()
r["after_sum"] = x.grad
try:
    s.backward()
    r["second_backward_error"] = "none"
except RuntimeError:
    r["second_backward_error"] = "RuntimeError"
try:
    torch.tensor([1.0, 2.0]).sum().backward()
    r["no_grad_backward"] = "none"
except RuntimeError:
    r["no_grad_backward"] = "RuntimeError"
try:
    (x * 2).backward()
    r["non_scalar"] = "none"
except RuntimeError:
    r["non_scalar"] = "RuntimeError"
w = torch.ones(2, requires_grad=True)
try:
    w += 1
    r["leaf_inplace"] = "none"
except RuntimeError:
    r["leaf_inplace"] = "RuntimeError"
u = torch.tensor([1.0, 2.0], requires_grad=True)
v = u.exp()
v.add_(1)
try:
    v.sum().backward()
    r["modified_saved"] = "none"
except RuntimeError:
    r["modified_saved"] = "RuntimeError"
print(r["detach"], r["no_grad"], r["leaf"])
results = r
