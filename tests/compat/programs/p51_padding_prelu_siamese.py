# An image-to-image block with ReflectionPad2d / ZeroPad2d / ReplicationPad2d and PReLU
# (one slope per channel), and a siamese embedding trained with a contrastive loss on
# CosineSimilarity and PairwiseDistance.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(44)


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.PReLU(dim),
            nn.ReplicationPad2d((1, 1, 0, 2)), nn.Conv2d(dim, dim, 3), nn.PReLU(),
            nn.ZeroPad2d((0, 0, 1, 0)), nn.ConstantPad2d((0, 0, 0, -1), 0.5),
        )

    def forward(self, x):
        return x + self.conv_block(x)


block = ResnetBlock(3).double()
with torch.no_grad():
    for name, p in block.named_parameters():
        if "conv" in name or p.dim() > 1 or name.endswith("bias"):
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.3))
print(block)
print([n for n, _ in block.named_parameters()])
img = torch.from_numpy(rng.standard_normal((2, 3, 6, 6))).requires_grad_()
out = block(img)
out.pow(2).mean().backward()

embed = nn.Sequential(nn.Linear(5, 8), nn.PReLU(), nn.Linear(8, 4))
with torch.no_grad():
    for p in embed.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.5, dtype=torch.float32))
a = torch.tensor(rng.standard_normal((10, 5)), dtype=torch.float32)
b = torch.tensor(rng.standard_normal((10, 5)), dtype=torch.float32)
same = torch.tensor(rng.integers(0, 2, 10), dtype=torch.float32)
cos = nn.CosineSimilarity(dim=1)
dist = nn.PairwiseDistance(p=2)
opt = torch.optim.SGD(embed.parameters(), lr=0.1)
margin = 1.0
for step in range(5):
    ea, eb = embed(a), embed(b)
    d = dist(ea, eb)
    loss = (same * d.pow(2) + (1 - same) * F.relu(margin - d).pow(2)).mean() + 0.1 * (1 - cos(ea, eb)).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.5f}")
results = {"out": out.detach(), "img_grad": img.grad, "prelu": [block.conv_block[2].weight.grad, block.conv_block[5].weight.grad],
           "embed": [p.detach() for p in embed.parameters()], "cos": cos(ea, eb).detach(), "dist": d.detach(),
           "functional": F.prelu(a, torch.tensor([0.1])), "state": list(block.state_dict())}
