"""A hidden layer whose bias pushes every unit below zero: a dead ReLU."""
import torch.nn as nn
import torch.nn.functional as F

from _net import TwoLayers, train


class Net(TwoLayers):
    def __init__(self):
        super().__init__()
        nn.init.constant_(self.fc1.bias, -20.0)

    def forward(self, x):
        h = F.relu(self.fc1(x))  # BUG
        return self.fc2(h)


model = Net()
train(model)
