"""Autograd, PyTorch style: the tutorial's code runs unchanged with `import chainrule as torch`,
and so do the everyday autograd tools.

Run: python examples/05_autograd_pytorch_style.py
"""
import chainrule as torch

# The tutorial's example, verbatim.
w = torch.tensor([2.0], requires_grad=True)
x = torch.tensor([5.0])
y_actual = torch.tensor([12.0])
y_pred = w * x
loss = (y_actual - y_pred) ** 2
loss.backward()
print(f"Gradient of loss w.r.t w: {w.grad}")

# The graph behind a tensor: grad_fn and its next_functions.
z = torch.tensor(1.5, requires_grad=True)
u = torch.tanh(z * 2)
print(f"u.grad_fn = {u.grad_fn.name()}, its input: {u.grad_fn.next_functions[0][0].name()}")

# Gradients without touching .grad, and of gradients (higher order).
(du_dz,) = torch.autograd.grad(u, z, create_graph=True)
(d2u_dz2,) = torch.autograd.grad(du_dz, z)
print(f"du/dz = {du_dz.item():.6f}, d2u/dz2 = {d2u_dz2.item():.6f}")

# Intermediate gradients and hooks.
a = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
h = a * a
h.retain_grad()
h.register_hook(lambda g: print(f"hook: the gradient reaching h is {g}"))
h.sum().backward()
print(f"h.grad = {h.grad}, a.grad = {a.grad}")

# no_grad: no graph is recorded (the weight update of every training loop).
with torch.no_grad():
    a -= 0.1 * a.grad
print(f"after the update a = {a}, requires_grad still {a.requires_grad}")

# gradcheck: the backward formulas against finite differences, in float64.
t = torch.randn(4, dtype=torch.float64, requires_grad=True)
print(f"gradcheck(sigmoid): {torch.autograd.gradcheck(torch.sigmoid, (t,))}")
