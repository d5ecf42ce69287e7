# Tensor hooks (a hook that changes the gradient), retain_grad, and module hooks.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(5)
x = torch.tensor(rng.standard_normal(4), requires_grad=True)
h = x * 2
h.retain_grad()
seen = []
handle = h.register_hook(lambda grad: grad * 10)
x.register_hook(lambda grad: seen.append(grad.clone()))
y = (h ** 2).sum()
y.backward()
print("x.grad", x.grad)
print("h.grad", h.grad)
handle.remove()
x.grad = None
(x * 2).pow(2).sum().backward()

model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).double()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))))
activations = {}


def save_activation(name):
    def hook(module, inputs, output):
        activations[name] = output.detach()
    return hook


for name, layer in model.named_children():
    layer.register_forward_hook(save_activation(name))
grad_norms = []
model[2].weight.register_hook(lambda g: grad_norms.append(g.norm().item()))
inp = torch.from_numpy(rng.standard_normal((5, 4)))
out = model(inp)
out.sum().backward()
print(sorted(activations))

results = {"x_grad_hooked": seen[0], "h_grad": h.grad, "x_grad_plain": x.grad,
           "acts": [activations[k] for k in sorted(activations)], "grad_norms": grad_norms,
           "h_is_leaf": h.is_leaf}
