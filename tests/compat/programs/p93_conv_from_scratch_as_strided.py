# Convolution and pooling "from scratch", the way blog posts and courses write them: im2col windows by
# Tensor.as_strided, the convolution as an einsum over the windows (and again through F.unfold and a matmul),
# max pooling as the amax of as_strided windows, all checked against F.conv2d / F.max_pool2d, then a tiny
# network built on the hand-written layers trained for a few steps; einsum's sublist form and a trace with a
# repeated subscript ("ii") included.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def conv2d_strided(x, weight, bias=None, stride=1):
    x = x.contiguous()
    B, C, H, W = x.shape
    O, _, KH, KW = weight.shape
    out_h = (H - KH) // stride + 1
    out_w = (W - KW) // stride + 1
    sB, sC, sH, sW = x.stride()
    windows = x.as_strided((B, C, out_h, out_w, KH, KW), (sB, sC, sH * stride, sW * stride, sH, sW))
    out = torch.einsum("bchwkl,ockl->bohw", windows, weight)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out


def conv2d_unfold(x, weight, bias=None, stride=1):
    B, C, H, W = x.shape
    O, _, KH, KW = weight.shape
    cols = F.unfold(x, (KH, KW), stride=stride)
    out = weight.view(O, -1) @ cols
    out_h = (H - KH) // stride + 1
    out = out.view(B, O, out_h, -1)
    return out if bias is None else out + bias[None, :, None, None]


def max_pool2d_strided(x, k=2):
    x = x.contiguous()
    B, C, H, W = x.shape
    sB, sC, sH, sW = x.stride()
    windows = x.as_strided((B, C, H // k, W // k, k, k), (sB, sC, sH * k, sW * k, sH, sW))
    return windows.amax(dim=(-2, -1))


x = torch.randn(2, 3, 9, 9)
w = torch.randn(4, 3, 3, 3)
b = torch.randn(4)
ref = F.conv2d(x, w, b, stride=2)
mine = conv2d_strided(x, w, b, stride=2)
mine2 = conv2d_unfold(x, w, b, stride=2)
print(ref.shape, (ref - mine).abs().max() < 1e-4, (ref - mine2).abs().max() < 1e-4)
pool_ref = F.max_pool2d(x, 2)
pool = max_pool2d_strided(x[:, :, :8, :8])
print(pool.shape, torch.equal(pool, pool_ref))


class ScratchConv(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k) * (2.0 / (cin * k * k)) ** 0.5)
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        return conv2d_strided(x, self.weight, self.bias)


net = nn.Sequential(ScratchConv(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
images = torch.randn(16, 1, 8, 8)
labels = torch.randint(0, 3, (16,))
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
losses = []
for step in range(8):
    opt.zero_grad()
    loss = F.cross_entropy(net(images), labels)
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(losses[0], losses[-1])
grad_norm = net[0].weight.grad.norm()
sq = torch.randn(4, 4)
trace = torch.einsum("ii", sq)
diag = torch.einsum("ii->i", sq)
bilinear = torch.einsum(x[0, 0], [0, 1], x[1, 0], [2, 1], [0, 2])
print(trace, torch.trace(sq), diag.shape, bilinear.shape)
results = {"conv": mine, "conv_unfold": mine2, "pool": pool, "losses": losses, "grad_norm": grad_norm,
           "weight": net[0].weight.detach(), "trace": trace, "diag": diag, "bilinear": bilinear}
