"""A gate computed as a Python number and made a tensor again: the gate never learns."""
import torch
import torch.nn as nn

from _net import train


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(16, 1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        g = torch.sigmoid(self.gate(x)).mean().item()  # BUG
        return self.fc(x) * torch.tensor(g)


model = Net()
train(model, optimizer=torch.optim.Adam(model.parameters(), lr=0.01))
