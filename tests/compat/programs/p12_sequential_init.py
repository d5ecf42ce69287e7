# nn.Sequential from an OrderedDict; nn.init.* and .weight.data.normal_().
import math
from collections import OrderedDict

import torch
import torch.nn as nn

model = nn.Sequential(OrderedDict([
    ("fc1", nn.Linear(100, 200)),
    ("relu1", nn.ReLU()),
    ("fc2", nn.Linear(200, 50)),
    ("act", nn.Tanh()),
    ("out", nn.Linear(50, 1)),
]))
print(model)
print(model.fc1, model[0] is model.fc1, len(model))

nn.init.xavier_uniform_(model.fc1.weight)
bound = math.sqrt(6.0 / (100 + 200))
xavier_in_bound = bool(model.fc1.weight.abs().max() <= bound)
xavier_std_ok = abs(model.fc1.weight.std().item() - bound / math.sqrt(3)) < 0.01
nn.init.kaiming_normal_(model.fc2.weight, mode="fan_in", nonlinearity="relu")
kaiming_std_ok = abs(model.fc2.weight.std().item() - math.sqrt(2.0 / 200)) < 0.01
model.fc1.bias.data.fill_(0.01)
nn.init.zeros_(model.fc2.bias)
nn.init.constant_(model.out.bias, 0.5)
model.out.weight.data.normal_(0.0, 0.02)
normal_std_ok = abs(model.out.weight.std().item() - 0.02) < 0.01
nn.init.ones_(model.out.weight[:, :10])
eye = torch.empty(3, 5)
nn.init.eye_(eye)
gain = nn.init.calculate_gain("leaky_relu", 0.2)
gains = [nn.init.calculate_gain(n) for n in ("linear", "sigmoid", "tanh", "relu", "selu")]
nn.init.uniform_(model.fc2.weight, a=-0.1, b=0.1)
uniform_ok = bool((model.fc2.weight.abs() <= 0.1).all())
print(xavier_in_bound, xavier_std_ok, kaiming_std_ok, normal_std_ok, uniform_ok)

results = {"checks": [xavier_in_bound, xavier_std_ok, kaiming_std_ok, normal_std_ok, uniform_ok],
           "fc1_bias": model.fc1.bias.detach(), "fc2_bias": model.fc2.bias.detach(),
           "out_bias": model.out.bias.detach(), "out_w_head": model.out.weight[:, :10].detach(),
           "eye": eye, "gain": gain, "gains": gains,
           "names": [n for n, _ in model.named_children()],
           "requires_grad": [p.requires_grad for p in model.parameters()]}
