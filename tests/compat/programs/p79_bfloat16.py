# bfloat16 on the CPU, as modern PyTorch code uses it: a small MLP trained in float32 under
# torch.autocast("cpu", dtype=torch.bfloat16) (the linear layers compute in bfloat16, the loss
# in float32, the gradients land in float32), then the model cast with .bfloat16() for
# inference, and bfloat16 tensors made by factories, casts and arithmetic.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(79)
X = torch.tensor(rng.standard_normal((64, 10)), dtype=torch.float32)
y = torch.tensor(rng.integers(0, 3, 64))

model = nn.Sequential(nn.Linear(10, 32), nn.GELU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.3, dtype=torch.float32))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for step in range(6):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(X)
        loss = F.cross_entropy(logits, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"step {step}: logits {logits.dtype}, loss {loss.dtype} {loss.item():.4f}, "
          f"grad {model[0].weight.grad.dtype}")

half_model = model.bfloat16()
with torch.no_grad():
    out = half_model(X.bfloat16())
print(out.dtype, out[:3])
print("accuracy", (out.argmax(1) == y).sum().item(), "/", len(y))

a = torch.tensor([1.1, -2.7, 1e-3, 3.0e38], dtype=torch.bfloat16)
b = torch.arange(4, dtype=torch.float32).bfloat16()
print(a, a * 1.1 + b, (a / 3).float(), a.sum(), torch.finfo(torch.bfloat16).eps)

results = {
    "logits": logits.float(),
    "loss": loss.item(),
    "weight": model[0].weight.float(),
    "out": out.float(),
    "dtypes": [str(t.dtype) for t in (logits, loss, out, a * b)],
}
