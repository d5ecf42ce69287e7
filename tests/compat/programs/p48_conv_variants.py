# Convolutions and pooling in their options: groups, dilation, padding='same', reflect and
# circular padding, ConvTranspose2d with groups, MaxPool2d return_indices/ceil_mode,
# AvgPool2d count_include_pad=False, MaxUnpool-free index use, F.unfold / F.fold.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(42)
x = torch.from_numpy(rng.standard_normal((2, 4, 7, 7))).requires_grad_()
mods = {
    "groups": nn.Conv2d(4, 6, 3, groups=2),
    "depthwise": nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False),
    "dilation": nn.Conv2d(4, 2, 3, dilation=2, padding=2),
    "same": nn.Conv2d(4, 3, (3, 5), padding="same"),
    "reflect": nn.Conv2d(4, 2, 3, padding=1, padding_mode="reflect"),
    "circular": nn.Conv2d(4, 2, 3, padding=2, padding_mode="circular", stride=2),
    "stride_rect": nn.Conv2d(4, 2, (2, 3), stride=(2, 1), padding=(1, 0)),
    "transpose_groups": nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2),
    "transpose_dilation": nn.ConvTranspose2d(4, 2, 2, stride=1, dilation=2),
}
r = {}
for name, m in mods.items():
    m.double()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.3))
    y = m(x)
    r[name] = y
    print(name, tuple(y.shape), m)
pooled, idx = F.max_pool2d(x, 3, stride=2, ceil_mode=True, return_indices=True)
r["maxpool_ceil"], r["maxpool_idx"] = pooled, idx
mp = nn.MaxPool2d(2, return_indices=True)
r["maxpool_mod"] = list(mp(x))
r["avg_no_pad"] = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
r["avg_ceil"] = nn.AvgPool2d(2, ceil_mode=True)(x)
r["adaptive_max"] = nn.AdaptiveMaxPool2d(2)(x)
r["adaptive_max_idx"] = list(F.adaptive_max_pool2d(x, (3, 4), return_indices=True))
r["adaptive_max_1d"] = nn.AdaptiveMaxPool1d(3)(x[:, :, 0])
patches = F.unfold(x, kernel_size=3, padding=1, stride=2)
r["unfold"] = patches
r["fold"] = F.fold(patches, output_size=(7, 7), kernel_size=3, padding=1, stride=2)
r["conv1d"] = F.conv1d(x[:, :, 0], torch.from_numpy(rng.standard_normal((3, 4, 2))), stride=2, padding=1)
total = sum(v.sum() for v in r.values() if isinstance(v, torch.Tensor) and v.dtype == torch.float64)
total.backward()
results = {k: (v.detach() if isinstance(v, torch.Tensor) else [t.detach() for t in v]) for k, v in r.items()}
results["x_grad"] = x.grad
