# nn.Parameter built from data, ParameterList / ParameterDict / ModuleDict, register_parameter,
# extra_repr, L1/L2 penalties summed over parameters, a deepcopy of a module.
import copy

import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(39)


class Mixture(nn.Module):
    def __init__(self, k=3, d=2):
        super().__init__()
        self.means = nn.ParameterList([nn.Parameter(torch.tensor(rng.standard_normal(d))) for _ in range(k)])
        self.scales = nn.ParameterDict({"log_std": nn.Parameter(torch.zeros(k, dtype=torch.float64)),
                                        "logits": nn.Parameter(torch.tensor(rng.standard_normal(k)))})
        self.heads = nn.ModuleDict({"a": nn.Linear(d, 1).double(), "b": nn.Linear(d, 1, bias=False).double()})
        self.register_parameter("temperature", nn.Parameter(torch.tensor(1.5, dtype=torch.float64)))
        self.register_parameter("unused", None)
        self.k, self.d = k, d

    def extra_repr(self):
        return f"k={self.k}, d={self.d}"

    def forward(self, x):
        means = torch.stack(list(self.means))                            # k x d
        std = self.scales["log_std"].exp()
        sq = ((x.unsqueeze(1) - means) ** 2).sum(-1) / std ** 2           # n x k
        log_w = torch.log_softmax(self.scales["logits"] / self.temperature, dim=0)
        log_p = torch.logsumexp(log_w - 0.5 * sq - self.d * self.scales["log_std"], dim=1)
        return log_p + self.heads["a"](x).squeeze(1) * 0.01 + self.heads["b"](x).squeeze(1) * 0.01


model = Mixture()
with torch.no_grad():
    for name, p in model.heads.named_parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))))
print(model)
print([n for n, _ in model.named_parameters()])
x = torch.from_numpy(rng.standard_normal((20, 2)))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for _ in range(10):
    opt.zero_grad()
    nll = -model(x).mean()
    l2 = sum(p.pow(2.0).sum() for p in model.parameters())
    l1 = sum(p.abs().sum() for n, p in model.named_parameters() if "heads" in n)
    loss = nll + 1e-3 * l2 + 1e-3 * l1
    loss.backward()
    opt.step()
twin = copy.deepcopy(model)
twin.temperature.data.fill_(3.0)
print(f"{loss.item():.8f}", model.temperature.item(), twin.temperature.item())
results = {"params": {n: p.detach() for n, p in model.named_parameters()}, "loss": loss.item(),
           "keys": list(model.state_dict()), "len": [len(model.means), len(model.scales), len(model.heads)],
           "is_param": isinstance(model.means[0], nn.Parameter), "repr": repr(model)}
