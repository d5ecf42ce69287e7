"""A hard choice (argmax) feeding the next layer: the scorer never learns."""
import torch.nn as nn

from _net import train


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scorer = nn.Linear(16, 5)
        self.table = nn.Embedding(5, 4)

    def forward(self, x):
        choice = self.scorer(x).argmax(dim=1)  # BUG
        return self.table(choice)


model = Net()
train(model)
