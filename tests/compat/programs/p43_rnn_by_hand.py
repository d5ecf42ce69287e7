# A character-level RNN cell written by hand, trained with truncated backpropagation through
# time (the hidden state detached between chunks), cross entropy over every step.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

text = "hello world, hello chainrule"
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
V, H = len(chars), 8


class CharRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, H)
        self.i2h = nn.Linear(H, H)
        self.h2h = nn.Linear(H, H, bias=False)
        self.h2o = nn.Linear(H, V)

    def forward(self, idx, h):
        outputs = []
        for t in range(idx.size(0)):
            h = torch.tanh(self.i2h(self.embed(idx[t])) + self.h2h(h))
            outputs.append(self.h2o(h))
        return torch.stack(outputs), h


rng = np.random.default_rng(37)
model = CharRNN().double()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.3))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
chunk = 7
losses = []
for epoch in range(3):
    h = torch.zeros(H, dtype=torch.float64)
    for start in range(0, len(data) - 1, chunk):
        inp = data[start:start + chunk]
        tgt = data[start + 1:start + chunk + 1]
        inp = inp[:len(tgt)]
        h = h.detach()
        logits, h = model(inp, h)
        loss = F.cross_entropy(logits, tgt)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    print(f"epoch {epoch} mean loss {sum(losses[-4:]) / 4:.6f}")
with torch.no_grad():
    h = torch.zeros(H, dtype=torch.float64)
    idx = torch.tensor([stoi["h"]])
    generated = []
    for _ in range(10):
        logits, h = model(idx, h)
        idx = logits[-1].argmax().view(1)
        generated.append(chars[idx.item()])
print("".join(generated))
results = {"losses": losses, "generated": "".join(generated), "params": [p.detach() for p in model.parameters()]}
