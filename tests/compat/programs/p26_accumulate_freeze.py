# Gradient accumulation over micro-batches, and fine-tuning with frozen layers.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(22)
X = torch.tensor(rng.standard_normal((32, 6)), dtype=torch.float32)
Y = torch.tensor(rng.integers(0, 2, 32), dtype=torch.float32)

backbone = nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 5), nn.ReLU())
head = nn.Linear(5, 1)
model = nn.Sequential(backbone, head)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.standard_normal(p.shape), dtype=p.dtype) * 0.5)
initial_backbone = [p.clone().detach() for p in backbone.parameters()]

for p in backbone.parameters():
    p.requires_grad = False
backbone.eval()
trainable = [p for p in model.parameters() if p.requires_grad]
print("trainable tensors", len(trainable), sum(p.numel() for p in trainable))
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
criterion = nn.BCEWithLogitsLoss()
accumulation_steps = 4
optimizer.zero_grad()
for i, (xb, yb) in enumerate(zip(X.split(4), Y.split(4))):
    loss = criterion(model(xb).squeeze(1), yb) / accumulation_steps
    loss.backward()
    if (i + 1) % accumulation_steps == 0:
        optimizer.step()
        optimizer.zero_grad()
unchanged = all(torch.equal(a, b) for a, b in zip(initial_backbone, backbone.parameters()))
print("backbone unchanged", unchanged, backbone[0].weight.grad is None)

# unfreeze and take one step with a smaller lr for the backbone
for p in backbone.parameters():
    p.requires_grad_(True)
optimizer = torch.optim.SGD([{"params": backbone.parameters(), "lr": 0.01},
                             {"params": head.parameters()}], lr=0.1)
loss = criterion(model(X).squeeze(1), Y)
loss.backward()
optimizer.step()
results = {"head": [p.detach() for p in head.parameters()], "backbone": [p.detach() for p in backbone.parameters()],
           "unchanged": unchanged, "loss": loss.item(),
           "lrs": [g["lr"] for g in optimizer.param_groups]}
