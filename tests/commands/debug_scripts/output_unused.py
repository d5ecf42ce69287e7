"""An auxiliary head computed in forward but left out of the loss."""
import torch.nn as nn
import torch.nn.functional as F

from _net import train


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 32)
        self.head = nn.Linear(32, 4)
        self.aux_head = nn.Linear(32, 1)

    def forward(self, x):
        h = F.relu(self.body(x))
        self.aux = self.aux_head(h)  # BUG
        return self.head(h)


model = Net()
train(model)
