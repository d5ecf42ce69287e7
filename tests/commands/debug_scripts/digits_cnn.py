"""The digits CNN (as `chainrule train --model cnn` builds it), written as a PyTorch script:
a healthy network.  Usage: python digits_cnn.py DIGITS.npz [EPOCHS]"""
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(torch.flatten(x, 1))


archive = np.load(sys.argv[1])
images = torch.tensor(archive["images"].reshape(-1, 1, 8, 8) / 16.0, dtype=torch.float32)
labels = torch.tensor(archive["labels"].astype(np.int64))
loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True)

torch.manual_seed(0)
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for epoch in range(int(sys.argv[2]) if len(sys.argv) > 2 else 1):
    model.train()
    for batch, target in loader:
        loss = F.cross_entropy(model(batch), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(images).argmax(dim=1) == labels).float().mean().item()
    print(f"epoch {epoch} loss {loss.item():.4f} accuracy {accuracy:.3f}")
