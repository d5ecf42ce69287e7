# In-place spellings: nn.ReLU(inplace=True), F.relu(x, inplace=True), x.relu_(),
# sigmoid_/tanh_/exp_, unsqueeze_, clamp_, and their gradients through non-leaf tensors.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(35)
w = torch.tensor(rng.standard_normal((4, 3)), requires_grad=True)
x = torch.tensor(rng.standard_normal((5, 4)))
h = x @ w
h.relu_()
h2 = h * 1.5
F.relu(h2, inplace=True)
g = h2.clone()
g.sigmoid_()
g = g * 2
g.add_(-1)
t = g.clone().tanh_()
e = (t * 0.1).exp_() * 1.0
e.clamp_(max=1.05)
act = nn.ReLU(inplace=True)
z = act(e - 1.02)
loss = z.sum() + t.sum() + g.pow(2).sum()
loss.backward()
v = torch.arange(6.0)
v.unsqueeze_(0)
v.t_()
v.squeeze_(1)
m = torch.zeros(3, 3)
m.fill_diagonal_(2.0)
m.index_fill_(1, torch.tensor([2]), -1.0)
m.index_add_(0, torch.tensor([0, 0]), torch.ones(2, 3))
print(v.shape, act)
results = {"h": h.detach(), "g": g.detach(), "t": t.detach(), "e": e.detach(), "z": z.detach(),
           "grad": w.grad, "v": v, "m": m, "relu_repr": repr(act)}
