"""Sigmoid units driven far into saturation (float64): their gradient all but vanishes."""
import torch
import torch.nn as nn

from _net import TwoLayers, train

torch.set_default_dtype(torch.float64)


class Net(TwoLayers):
    def __init__(self):
        super().__init__()
        nn.init.constant_(self.fc1.bias, 25.0)

    def forward(self, x):
        h = torch.sigmoid(self.fc1(x))  # BUG
        return self.fc2(h)


model = Net()
train(model, dtype=torch.float64)
