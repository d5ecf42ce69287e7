# A custom nn.Module holding its layers in an nn.ModuleList.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


torch.manual_seed(0)
model = MLP([6, 16, 8, 3])
print(model)
rng = np.random.default_rng(6)
state = {k: torch.from_numpy(rng.standard_normal(tuple(v.shape)).astype(np.float32) * 0.3)
         for k, v in model.state_dict().items()}
model.load_state_dict(state)
n_params = sum(p.numel() for p in model.parameters())
n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print("params", n_params, n_trainable, len(list(model.parameters())))
print([name for name, _ in model.named_parameters()])
print([type(m).__name__ for m in model.modules()])

x = torch.from_numpy(rng.standard_normal((10, 6)).astype(np.float32))
target = torch.from_numpy(rng.integers(0, 3, 10))
logits = model(x)
loss = F.cross_entropy(logits, target)
loss.backward()
print(f"loss {loss.item():.5f}")
results = {"logits": logits.detach(), "loss": loss.detach(),
           "grads": {n: p.grad for n, p in model.named_parameters()},
           "keys": list(model.state_dict().keys()), "n_params": n_params,
           "layer_count": len(model.layers), "last": model.layers[-1].weight.shape}
