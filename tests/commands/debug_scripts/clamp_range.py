"""A clamp whose range the activations never reach: no gradient passes it."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from _net import batch


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        h = self.fc1(x).clamp(min=10.0, max=20.0)  # BUG
        return self.fc2(h)


x, y = batch()
x, y = torch.tensor(x), torch.tensor(y)
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(2):
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
