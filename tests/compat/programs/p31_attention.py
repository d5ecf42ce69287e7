# Self-attention written out by hand, with sinusoidal positional encodings kept in a buffer,
# a causal mask, and the fused F.scaled_dot_product_attention for comparison.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=50):
        super().__init__()
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0))

    def forward(self, x):
        return x + self.pe[:, :x.size(1)]


class SelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        assert d_model % n_heads == 0
        self.d_k = d_model // n_heads
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x, causal=True):
        B, T, C = x.size()
        q, k, v = self.qkv(self.norm(x)).split(C, dim=2)
        q = q.view(B, T, self.n_heads, self.d_k).transpose(1, 2)
        k = k.view(B, T, self.n_heads, self.d_k).transpose(1, 2)
        v = v.view(B, T, self.n_heads, self.d_k).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        if causal:
            mask = torch.tril(torch.ones(T, T)).view(1, 1, T, T)
            att = att.masked_fill(mask == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v
        fused = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return x + self.proj(y), att, fused.transpose(1, 2).reshape(B, T, C)


rng = np.random.default_rng(28)
torch.manual_seed(0)
pos = PositionalEncoding(8)
attn = SelfAttention(8, 2)
with torch.no_grad():
    for p in attn.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3))
tokens = torch.from_numpy(rng.standard_normal((2, 5, 8)).astype(np.float32))
h = pos(tokens)
out, att, fused = attn(h)
loss = out.pow(2).mean()
loss.backward()
print([name for name, _ in attn.named_parameters()], [name for name, _ in pos.named_buffers()])
print(list(pos.state_dict().keys()), att.shape)
mask = torch.tensor(rng.random((5, 5)) > 0.3)
q = torch.from_numpy(rng.standard_normal((2, 5, 4)))
bool_mask = F.scaled_dot_product_attention(q, q, q, attn_mask=mask | torch.eye(5, dtype=torch.bool))
float_mask = F.scaled_dot_product_attention(q, q, q, attn_mask=torch.from_numpy(rng.standard_normal((5, 5))), scale=0.3)
results = {"pe": pos.pe[0, :6], "h": h, "out": out.detach(), "att": att.detach(), "fused": fused.detach(),
           "grads": [p.grad for p in attn.parameters()], "bool_mask": bool_mask, "float_mask": float_mask}
