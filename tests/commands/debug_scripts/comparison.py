"""A step function (a comparison) between two layers: fc1 never learns."""

from _net import TwoLayers, train


class Net(TwoLayers):
    def forward(self, x):
        fired = (self.fc1(x) > 0).float()  # BUG
        return self.fc2(fired)


model = Net()
train(model)
