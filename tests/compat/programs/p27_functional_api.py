# A network written entirely with torch.nn.functional and raw parameters.
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(23)
W1 = torch.tensor(rng.standard_normal((8, 4)) * 0.5, requires_grad=True)
b1 = torch.zeros(8, dtype=torch.float64, requires_grad=True)
W2 = torch.tensor(rng.standard_normal((3, 8)) * 0.5, requires_grad=True)
b2 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
params = [W1, b1, W2, b2]
x = torch.tensor(rng.standard_normal((10, 4)))
y = torch.tensor(rng.integers(0, 3, 10))

r = {}
h = F.linear(x, W1, b1)
r["relu"] = F.relu(h)
r["leaky"] = F.leaky_relu(h, negative_slope=0.1)
r["elu"] = F.elu(h)
r["gelu"] = F.gelu(h)
r["gelu_tanh"] = F.gelu(h, approximate="tanh")
r["silu"] = F.silu(h)
r["softplus"] = F.softplus(h)
r["sigmoid"] = torch.sigmoid(h)
r["tanh"] = torch.tanh(h)
r["hardtanh"] = F.hardtanh(h)
r["relu6"] = F.relu6(h * 4)
r["dropout_eval"] = F.dropout(h, p=0.5, training=False)
r["layer_norm"] = F.layer_norm(h, (8,))
r["normalize"] = F.normalize(h, dim=1)
r["pad"] = F.pad(h, (1, 2))
r["pad_const"] = F.pad(h, (0, 1, 1, 0), value=-1.0)
r["softmax"] = F.softmax(h, dim=-1)
r["log_softmax"] = F.log_softmax(h, dim=1)
r["cosine"] = F.cosine_similarity(h[:5], h[5:], dim=1)
r["embedding"] = F.embedding(torch.tensor([[0, 2], [1, 1]]), W1)
logits = F.linear(F.relu(h), W2, b2)
loss = F.cross_entropy(logits, y)
loss.backward()
lr = 0.5
with torch.no_grad():
    for p in params:
        p -= lr * p.grad
        p.grad = None
r["loss"] = loss.detach()
r["params"] = [p.detach() for p in params]
r["grads_cleared"] = [p.grad for p in params]
print(f"{loss.item():.6f}")
results = {k: (v.detach() if isinstance(v, torch.Tensor) else v) for k, v in r.items()}
