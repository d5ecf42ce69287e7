"""A gate computed as a Python number and made a tensor again: the gate never learns."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from _net import batch


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(16, 1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        g = torch.sigmoid(self.gate(x)).mean().item()  # BUG
        return self.fc(x) * torch.tensor(g)


x, y = batch()
x, y = torch.tensor(x), torch.tensor(y)
model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(3):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
