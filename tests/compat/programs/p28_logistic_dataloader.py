# Logistic regression with BCELoss, a Dataset subclass and a DataLoader fed an explicit
# index order (a sampler over a NumPy permutation).
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset


class PointsDataset(Dataset):
    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.x = rng.standard_normal((n, 2)).astype(np.float32)
        self.y = (self.x[:, 0] * 2 - self.x[:, 1] > 0.3).astype(np.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return torch.from_numpy(self.x[idx]), torch.tensor(self.y[idx])


class LogisticRegression(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


dataset = PointsDataset(90, seed=24)
order = np.random.default_rng(25).permutation(len(dataset)).tolist()
loader = DataLoader(dataset, batch_size=32, sampler=order, drop_last=False)
model = LogisticRegression()
nn.init.zeros_(model.linear.weight)
nn.init.zeros_(model.linear.bias)
criterion = nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
batch_shapes = []
for epoch in range(5):
    epoch_loss = 0.0
    for xb, yb in loader:
        batch_shapes.append((tuple(xb.shape), tuple(yb.shape), str(yb.dtype)))
        pred = model(xb).squeeze(1)
        loss = criterion(pred, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
    print(f"epoch {epoch + 1}: loss {epoch_loss / len(loader):.4f}")
with torch.no_grad():
    xs = torch.from_numpy(dataset.x)
    acc = ((model(xs).squeeze() > 0.5).float() == torch.from_numpy(dataset.y)).float().mean().item()
print(f"accuracy {acc:.3f}")
results = {"w": model.linear.weight.detach(), "b": model.linear.bias.detach(), "acc": acc,
           "batches": batch_shapes[:3], "n_batches": len(loader)}
