# model.apply(init_fn) walking every submodule, then a forward pass with known weights.
import torch
import torch.nn as nn

visited = []


def init_weights(m):
    visited.append(type(m).__name__)
    if isinstance(m, nn.Linear):
        nn.init.constant_(m.weight, 0.05)
        if m.bias is not None:
            m.bias.data.fill_(-0.01)
    elif isinstance(m, nn.Conv2d):
        nn.init.dirac_(m.weight)
        nn.init.zeros_(m.bias)
    elif type(m) == nn.BatchNorm2d:
        m.weight.data.fill_(1.5)
        m.bias.data.zero_()


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU())
        self.classifier = nn.Linear(2 * 4 * 4, 3, bias=True)
        self.extra = nn.Linear(3, 3, bias=False)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.extra(self.classifier(x))


model = Model()
returned = model.apply(init_weights)
print(visited)
print(returned is model)
x = torch.arange(2 * 2 * 4 * 4, dtype=torch.float32).reshape(2, 2, 4, 4) / 10
model.eval()
with torch.no_grad():
    y = model(x)
print(y)
results = {"visited": visited, "y": y, "conv_w": model.features[0].weight.detach(),
           "extra_bias": model.extra.bias}
