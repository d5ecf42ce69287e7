# BatchNorm1d + Dropout: different in train() and eval().
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(8)
model = nn.Sequential(
    nn.Linear(5, 6),
    nn.BatchNorm1d(6),
    nn.ReLU(),
    nn.Dropout(p=0.5),
    nn.Linear(6, 2),
)
with torch.no_grad():
    model[0].weight.copy_(torch.tensor(rng.standard_normal((6, 5)), dtype=torch.float32))
    model[0].bias.fill_(0.1)
    model[4].weight.copy_(torch.tensor(rng.standard_normal((2, 6)), dtype=torch.float32))
    model[4].bias.zero_()
x = torch.tensor(rng.standard_normal((8, 5)), dtype=torch.float32)

model.train()
print(model.training, model[1].training, model[3].training)
for _ in range(3):
    h = model[:3](x)                         # up to the ReLU: deterministic
    dropped = model[3](h)
kept = dropped != 0
scaled_ok = torch.allclose(dropped[kept], h[kept] / 0.5)
print("dropout keeps and scales:", scaled_ok, "zeros only where dropped:", bool((dropped[~kept] == 0).all()))
print(model[1].num_batches_tracked)

model.eval()
print(model.training, model[3].training)
with torch.no_grad():
    out_eval = model(x)
    out_eval2 = model(x)
print(torch.equal(out_eval, out_eval2))

results = {"running_mean": model[1].running_mean, "running_var": model[1].running_var,
           "nbt": model[1].num_batches_tracked, "h": h.detach(), "out_eval": out_eval,
           "scaled_ok": scaled_ok, "buffers": [n for n, _ in model.named_buffers()],
           "state_keys": list(model.state_dict())}
