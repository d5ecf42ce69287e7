# torch.autograd.grad with create_graph: a Hessian-vector product and a gradient penalty.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(4)
x = torch.tensor(rng.standard_normal(5), requires_grad=True)
v = torch.tensor(rng.standard_normal(5))


def f(x):
    return (x ** 3).sum() + (x[:-1] * x[1:]).sum() + torch.sin(x).prod()


y = f(x)
grad_x, = torch.autograd.grad(y, x, create_graph=True)
hvp, = torch.autograd.grad(grad_x, x, grad_outputs=v)
print("hvp", hvp)
hessian = torch.autograd.functional.hessian(f, x.detach())
hvp_full = hessian @ v

# WGAN-GP style gradient penalty on a small critic
critic = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).double()
with torch.no_grad():
    for p in critic.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.5))
real = torch.from_numpy(rng.standard_normal((6, 3)))
fake = torch.from_numpy(rng.standard_normal((6, 3)))
alpha = torch.from_numpy(rng.uniform(size=(6, 1)))
interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
scores = critic(interp)
grads = torch.autograd.grad(outputs=scores, inputs=interp, grad_outputs=torch.ones_like(scores),
                            create_graph=True, retain_graph=True)[0]
penalty = ((grads.norm(2, dim=1) - 1) ** 2).mean()
loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
critic.zero_grad()
loss.backward()
print(f"penalty {penalty.item():.6f}")

results = {"grad_x": grad_x.detach(), "hvp": hvp, "hessian": hessian, "hvp_full": hvp_full,
           "penalty": penalty.detach(), "loss": loss.detach(),
           "critic_grads": [p.grad for p in critic.parameters()]}
