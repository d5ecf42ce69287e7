"""A layer defined in __init__ and never called in forward."""
import torch.nn as nn
import torch.nn.functional as F

from _net import train


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.aux = nn.Linear(32, 32)  # BUG
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


model = Net()
train(model)
