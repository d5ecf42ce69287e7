"""A clamp whose range the activations never reach: no gradient passes it."""

from _net import TwoLayers, train


class Net(TwoLayers):
    def forward(self, x):
        h = self.fc1(x).clamp(min=10.0, max=20.0)  # BUG
        return self.fc2(h)


model = Net()
train(model)
