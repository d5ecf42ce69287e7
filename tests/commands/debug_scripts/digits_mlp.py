"""The digits MLP (as `chainrule train` builds it), written as a PyTorch script: a healthy
network.  Usage: python digits_mlp.py DIGITS.npz [EPOCHS]"""
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

archive = np.load(sys.argv[1])
images = torch.tensor(archive["images"].reshape(-1, 64) / 16.0, dtype=torch.float32)
labels = torch.tensor(archive["labels"].astype(np.int64))
loader = DataLoader(TensorDataset(images, labels), batch_size=32, shuffle=True)

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(int(sys.argv[2]) if len(sys.argv) > 2 else 1):
    for batch, target in loader:
        loss = F.cross_entropy(model(batch), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch} loss {loss.item():.4f}")
