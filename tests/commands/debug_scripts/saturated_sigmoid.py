"""Sigmoid units driven far into saturation by large pre-activations: their gradient vanishes."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from _net import batch

torch.set_default_dtype(torch.float64)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)
        nn.init.constant_(self.fc1.bias, 25.0)

    def forward(self, x):
        h = torch.sigmoid(self.fc1(x))  # BUG
        return self.fc2(h)


x, y = batch()
x, y = torch.tensor(x, dtype=torch.float64), torch.tensor(y)
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(2):
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
