# AdamW with amsgrad and CosineAnnealingLR, parameter groups with their own settings.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(13)
model = nn.Sequential(nn.Linear(6, 12), nn.SiLU(), nn.Linear(12, 1)).double()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(p.shape) * 0.3))
X = torch.from_numpy(rng.standard_normal((40, 6)))
y = torch.from_numpy(rng.standard_normal((40, 1)))

decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                               {"params": no_decay, "weight_decay": 0.0}], lr=3e-2, amsgrad=True)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10, eta_min=1e-4)
lrs = []
for step in range(25):
    optimizer.zero_grad(set_to_none=True)
    loss = F.smooth_l1_loss(model(X), y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    lrs.append([g["lr"] for g in optimizer.param_groups])
print(len(optimizer.param_groups), optimizer.param_groups[1]["weight_decay"], round(loss.item(), 10))
results = {"params": [p.detach() for p in model.parameters()], "lrs": lrs, "loss": loss.item(),
           "grad_none_after_zero": None}
optimizer.zero_grad()
results["grad_none_after_zero"] = model[0].weight.grad
