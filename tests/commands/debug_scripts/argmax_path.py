"""A hard choice (argmax) feeding the next layer: the scorer never learns."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from _net import batch


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scorer = nn.Linear(16, 5)
        self.table = nn.Embedding(5, 4)

    def forward(self, x):
        choice = self.scorer(x).argmax(dim=1)  # BUG
        return self.table(choice)


x, y = batch()
x, y = torch.tensor(x), torch.tensor(y)
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(2):
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
