"""The first layer computed under no_grad in forward: it never learns."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from _net import train


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(16, 32)
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        with torch.no_grad():
            h = self.embed(x)  # BUG
        return self.head(F.relu(h))


model = Net()
train(model)
