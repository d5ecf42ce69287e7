# A small GPT (decoder-only transformer) built from nn.TransformerEncoderLayer the way many
# tutorials do: token and learned position embeddings, pre-norm GELU blocks with a causal
# mask from nn.Transformer.generate_square_subsequent_mask, weight tying, AdamW with a
# cosine schedule, then greedy generation.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

text = "the quick brown fox jumps over the lazy dog. the dog sleeps. the fox runs. " * 3
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
itos = {i: c for c, i in stoi.items()}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
vocab_size, block_size, n_embd, n_head, n_layer = len(chars), 16, 32, 4, 2


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        layer = nn.TransformerEncoderLayer(d_model=n_embd, nhead=n_head, dim_feedforward=4 * n_embd,
                                           dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers=n_layer, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(block_size))

    def forward(self, idx, targets=None):
        B, T = idx.shape
        pos = torch.arange(T, device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        x = self.blocks(x, mask=self.mask[:T, :T], is_causal=True)
        logits = self.head(self.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    @torch.no_grad()
    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -block_size:])
            next_id = logits[:, -1, :].argmax(dim=-1, keepdim=True)
            idx = torch.cat((idx, next_id), dim=1)
        return idx


rng = np.random.default_rng(53)
model = GPT().double()
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.1))
        if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "ln_f.weight":
            p.add_(1.0)
print(f"{sum(p.numel() for p in model.parameters())} parameters")
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30)
starts = rng.integers(0, len(data) - block_size - 1, size=(30, 8))
losses = []
for step in range(30):
    xb = torch.stack([data[i:i + block_size] for i in starts[step]])
    yb = torch.stack([data[i + 1:i + block_size + 1] for i in starts[step]])
    _, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    if step % 10 == 9:
        print(f"step {step + 1}: loss {loss.item():.4f}")

model.eval()
context = torch.tensor([[stoi["t"], stoi["h"], stoi["e"]]])
sample = model.generate(context, 12)[0].tolist()
print("sample:", repr("".join(itos[i] for i in sample)))
logits, _ = model(context)
results = {"losses": losses, "sample": sample, "logits": logits,
           "qkv_grad": model.blocks.layers[0].self_attn.in_proj_weight.grad,
           "tied": model.head.weight is model.tok_emb.weight}
