# A residual block with a skip connection, used twice in a small network.
import numpy as np
import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc1 = nn.Linear(dim, dim)
        self.fc2 = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.act = nn.GELU()

    def forward(self, x):
        residual = x
        out = self.act(self.fc1(self.norm(x)))
        out = self.fc2(out)
        return out + residual


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.inp = nn.Linear(4, 8)
        self.blocks = nn.Sequential(*[ResidualBlock(8) for _ in range(2)])
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.blocks(torch.tanh(self.inp(x)))).squeeze(-1)


rng = np.random.default_rng(7)
net = Net().double()
with torch.no_grad():
    for name, p in net.named_parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(p.shape) * 0.4))
x = torch.from_numpy(rng.standard_normal((16, 4)))
y = torch.from_numpy(rng.standard_normal(16))
opt = torch.optim.SGD(net.parameters(), lr=0.05)
for step in range(5):
    opt.zero_grad()
    loss = nn.functional.mse_loss(net(x), y)
    loss.backward()
    opt.step()
    print(step, round(loss.item(), 8))
results = {"params": dict(net.named_parameters()), "out": net(x).detach()}
results["params"] = {k: v.detach() for k, v in results["params"].items()}
