# RMSprop (centered, momentum) with ReduceLROnPlateau on a validation loss.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(14)
X = torch.from_numpy(rng.standard_normal((64, 5))).float()
Y = (X.sum(dim=1, keepdim=True) > 0).float()
Xv = torch.from_numpy(rng.standard_normal((32, 5))).float()
Yv = (Xv.sum(dim=1, keepdim=True) > 0).float()

model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))).float() * 0.5)
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.RMSprop(model.parameters(), lr=0.2, alpha=0.9, momentum=0.5, centered=True)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)
lrs, val_losses = [], []
for epoch in range(12):
    model.train()
    optimizer.zero_grad()
    loss = loss_fn(model(X), Y)
    loss.backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        val_loss = loss_fn(model(Xv), Yv)
    scheduler.step(val_loss)
    val_losses.append(val_loss.item())
    lrs.append(optimizer.param_groups[0]["lr"])
    print(f"epoch {epoch:2d} val {val_loss.item():.4f} lr {lrs[-1]:.4f}")
results = {"lrs": lrs, "val": val_losses, "params": [p.detach() for p in model.parameters()]}
