# Multi-label classification: BCEWithLogitsLoss, sigmoid > 0.5, per-label precision / recall /
# F1 computed with tensor ops, early stopping with copy.deepcopy of the best state_dict.
import copy

import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(38)
X = torch.tensor(rng.standard_normal((60, 5)), dtype=torch.float32)
W_true = torch.tensor(rng.standard_normal((5, 3)), dtype=torch.float32)
Y = ((X @ W_true) > 0.2).float()
X_val, Y_val = X[45:], Y[45:]
X_tr, Y_tr = X[:45], Y[:45]

model = nn.Sequential(nn.Linear(5, 12), nn.ReLU(), nn.Linear(12, 3))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.3, dtype=torch.float32))
criterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 1.5, 0.8]))
optimizer = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=1e-4)
best_loss, best_state, best_epoch, patience, bad = float("inf"), None, -1, 3, 0
for epoch in range(30):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(X_tr), Y_tr)
    loss.backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        val_loss = criterion(model(X_val), Y_val).item()
    if val_loss < best_loss - 1e-4:
        best_loss, best_state, best_epoch, bad = val_loss, copy.deepcopy(model.state_dict()), epoch, 0
    else:
        bad += 1
        if bad >= patience:
            break
print("stopped at", epoch, "best", best_epoch)
model.load_state_dict(best_state)
with torch.no_grad():
    probs = torch.sigmoid(model(X_val))
preds = (probs > 0.5).float()
tp = (preds * Y_val).sum(dim=0)
fp = (preds * (1 - Y_val)).sum(dim=0)
fn = ((1 - preds) * Y_val).sum(dim=0)
precision = tp / (tp + fp).clamp(min=1)
recall = tp / (tp + fn).clamp(min=1)
f1 = 2 * precision * recall / (precision + recall + 1e-8)
exact_match = (preds == Y_val).all(dim=1).float().mean()
print(f"f1 {f1.mean().item():.4f} exact {exact_match.item():.4f}")
results = {"best_epoch": best_epoch, "stopped": epoch, "probs": probs, "f1": f1, "exact": exact_match,
           "best_state": best_state}
