"""An auxiliary head computed in forward but left out of the loss."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from _net import batch


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


x, y = batch()
x, y = torch.tensor(x), torch.tensor(y)
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(2):
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
