"""A step function (a comparison) between two layers: fc1 never learns."""
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
        fired = (self.fc1(x) > 0).float()  # BUG
        return self.fc2(fired)


x, y = batch()
x, y = torch.tensor(x), torch.tensor(y)
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(2):
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
