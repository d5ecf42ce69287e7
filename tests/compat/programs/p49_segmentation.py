# Per-pixel classification: CrossEntropyLoss on (N, C, H, W) with class weights and an ignored
# label, a soft Dice loss, argmax over channels and per-class IoU.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(43)
N, C, H, W = 2, 3, 6, 6
net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, C, 1))
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.4, dtype=torch.float32))
images = torch.tensor(rng.standard_normal((N, 1, H, W)), dtype=torch.float32)
masks = torch.tensor(rng.integers(0, C, (N, H, W)))
masks[:, 0, :] = 255
criterion = nn.CrossEntropyLoss(weight=torch.tensor([0.5, 1.0, 2.0]), ignore_index=255)


def dice_loss(logits, target, eps=1.0):
    probs = logits.softmax(dim=1)
    valid = (target != 255).unsqueeze(1).float()
    onehot = F.one_hot(target.clamp(max=C - 1), C).permute(0, 3, 1, 2).float() * valid
    inter = (probs * onehot * valid).sum(dim=(0, 2, 3))
    union = (probs * valid).sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    return 1 - ((2 * inter + eps) / (union + eps)).mean()


opt = torch.optim.Adam(net.parameters(), lr=0.01)
for step in range(5):
    logits = net(images)
    ce = criterion(logits, masks)
    dl = dice_loss(logits, masks)
    loss = ce + dl
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step}: ce {ce.item():.5f} dice {dl.item():.5f}")
with torch.no_grad():
    pred = net(images).argmax(dim=1)
valid = masks != 255
ious = []
for c in range(C):
    p, t = (pred == c) & valid, (masks == c) & valid
    inter, union = (p & t).sum().item(), (p | t).sum().item()
    ious.append(inter / union if union else float("nan"))
print("IoU", [round(i, 4) for i in ious])
none = F.cross_entropy(logits.detach(), masks, reduction="none", ignore_index=255)
results = {"pred": pred, "ious": ious, "none": none, "params": [p.detach() for p in net.parameters()]}
