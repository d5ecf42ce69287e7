# Adagrad, and SGD under OneCycleLR with gradient clipping (clip_grad_norm_, clip_grad_value_).
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils import clip_grad_norm_

rng = np.random.default_rng(15)
X = torch.tensor(rng.standard_normal((30, 4)), dtype=torch.float64)
Y = torch.tensor(rng.standard_normal((30, 2)), dtype=torch.float64)


def fresh():
    m = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)).to(torch.float64)
    r = np.random.default_rng(16)
    for p in m.parameters():
        p.data = torch.tensor(r.standard_normal(tuple(p.shape)), dtype=torch.float64)
    return m


model = fresh()
opt = torch.optim.Adagrad(model.parameters(), lr=0.1, lr_decay=0.01, weight_decay=0.001,
                          initial_accumulator_value=0.1)
for _ in range(15):
    opt.zero_grad()
    nn.functional.mse_loss(model(X), Y).backward()
    opt.step()
adagrad_params = [p.detach().clone() for p in model.parameters()]

model = fresh()
steps = 20
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps)
norms, lrs, moms = [], [], []
for _ in range(steps):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(X), Y) * 10
    loss.backward()
    total_norm = clip_grad_norm_(model.parameters(), max_norm=1.0)
    norms.append(total_norm)
    opt.step()
    sched.step()
    lrs.append(sched.get_last_lr()[0])
    moms.append(opt.param_groups[0]["momentum"])
print("clipped norms", [round(n.item(), 6) for n in norms[:3]])
loss = nn.functional.mse_loss(model(X), Y)
loss.backward()
nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
results = {"adagrad": adagrad_params, "onecycle": [p.detach() for p in model.parameters()],
           "norms": norms, "lrs": lrs, "moms": moms, "clipped_grads": [p.grad for p in model.parameters()]}
