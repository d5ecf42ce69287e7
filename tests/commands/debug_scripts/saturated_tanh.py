"""tanh units driven to exactly 1 in float32 by a large bias: their gradient is zero."""
import torch
import torch.nn as nn

from _net import TwoLayers, train


class Net(TwoLayers):
    def __init__(self):
        super().__init__()
        nn.init.constant_(self.fc1.bias, 20.0)

    def forward(self, x):
        h = torch.tanh(self.fc1(x))  # BUG
        return self.fc2(h)


model = Net()
train(model)
