"""A hidden layer whose output is detached in forward: fc1 never learns."""
import torch.nn.functional as F

from _net import TwoLayers, train


class Net(TwoLayers):
    def forward(self, x):
        h = F.relu(self.fc1(x)).detach()  # BUG
        return self.fc2(h)


model = Net()
train(model)
