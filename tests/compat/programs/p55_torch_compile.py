# PyTorch 2: torch.compile on a module and on a loss function; the numbers are eager's.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(11)
model = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.3, dtype=torch.float32))
compiled = torch.compile(model, backend="eager")
criterion = nn.CrossEntropyLoss()


@torch.compile(backend="eager")
def loss_of(inputs, targets):
    return criterion(compiled(inputs), targets)


optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
x = torch.tensor(rng.standard_normal((12, 6)), dtype=torch.float32)
y = torch.tensor(rng.integers(0, 3, 12))
losses = []
for step in range(6):
    optimizer.zero_grad()
    loss = loss_of(x, y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print("losses:", [round(v, 5) for v in losses])
print(type(compiled).__name__, list(compiled.state_dict())[:2])

compiled.eval()
with torch.no_grad():
    logits = compiled(x)
print("eval argmax:", logits.argmax(1).tolist())

results = {"losses": losses, "logits": logits, "weight": model[0].weight.detach(),
           "running_mean": model[1].running_mean, "nbt": model[1].num_batches_tracked}
