# torch.autograd.functional: jacobian, hessian, vjp, jvp, hvp; autograd.grad with
# allow_unused and several outputs; backward(inputs=...).
import numpy as np
import torch
from torch.autograd.functional import hessian, hvp, jacobian, jvp, vjp

rng = np.random.default_rng(40)
x = torch.from_numpy(rng.standard_normal(3))
W = torch.from_numpy(rng.standard_normal((2, 3)))


def f(x):
    return torch.tanh(W @ x) * x[:2]


def g(x, y):
    return (x * y).sum() + x.pow(3).sum()


J = jacobian(f, x)
Jxy = jacobian(g, (x, x * 2))
H = hessian(lambda t: (t.sin() * t).sum(), x)
v2 = torch.from_numpy(rng.standard_normal(2))
v3 = torch.from_numpy(rng.standard_normal(3))
out_vjp, vjp_val = vjp(f, x, v2)
out_jvp, jvp_val = jvp(f, x, v3)
_, hvp_val = hvp(lambda t: (t.exp() * t).sum(), x, v3)

a = torch.from_numpy(rng.standard_normal(3)).requires_grad_()
b = torch.from_numpy(rng.standard_normal(3)).requires_grad_()
c = torch.zeros(1, dtype=torch.float64, requires_grad=True)
y1, y2 = (a * b).sum(), (a ** 2).sum()
grads = torch.autograd.grad([y1, y2], [a, b, c], allow_unused=True)
print(grads[2] is None)
z = (a * b * 3).sum()
z.backward(inputs=[a])
print(a.grad is not None, b.grad is None)
results = {"J": J, "Jxy": list(Jxy), "H": H, "vjp": [out_vjp, vjp_val], "jvp": [out_jvp, jvp_val], "hvp": hvp_val,
           "grads": list(grads[:2]), "a_grad": a.grad}
