# Normalization layers in their variants: BatchNorm momentum=None (cumulative average),
# affine=False, track_running_stats=False; LayerNorm without affine; GroupNorm; train then eval.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(41)
batches = [torch.tensor(rng.standard_normal((6, 4, 3, 3)) * (i + 1) + i, dtype=torch.float32) for i in range(4)]
layers = {
    "bn_default": nn.BatchNorm2d(4),
    "bn_cumulative": nn.BatchNorm2d(4, momentum=None),
    "bn_no_affine": nn.BatchNorm2d(4, affine=False, eps=1e-3, momentum=0.3),
    "bn_no_stats": nn.BatchNorm2d(4, track_running_stats=False),
    "gn": nn.GroupNorm(2, 4),
    "ln": nn.LayerNorm([4, 3, 3], elementwise_affine=False),
    "ln_last": nn.LayerNorm(3, eps=1e-6),
}
out = {}
for name, layer in layers.items():
    layer.train()
    for b in batches:
        y = layer(b)
    layer.eval()
    with torch.no_grad():
        y_eval = layer(batches[0])
    state = {k: v for k, v in layer.state_dict().items()}
    out[name] = {"train_out": y.detach(), "eval_out": y_eval, "state": state,
                 "params": [n for n, _ in layer.named_parameters()]}
    print(name, list(state), layer)
bn1 = nn.BatchNorm1d(5)
x3 = torch.tensor(rng.standard_normal((4, 5, 7)), dtype=torch.float32)
y3 = bn1(x3)
y3.sum().backward()
out["bn1d_3d"] = {"y": y3.detach(), "mean": bn1.running_mean, "var": bn1.running_var,
                  "grad_w": bn1.weight.grad, "grad_b": bn1.bias.grad}
results = out
