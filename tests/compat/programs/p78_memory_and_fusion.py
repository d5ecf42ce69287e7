# Memory-saving and deployment utilities: a small CNN trained with its saved activations packed to
# temporary files (torch.autograd.graph.saved_tensors_hooks, the PyTorch tutorial's
# SelfDeletingTempFile), and with save_on_cpu; then conv-BatchNorm fusion for inference
# (torch.nn.utils.fusion) giving the same outputs with fewer layers, and torch.utils._pytree's
# tree_map over a dict of tensors (an optimizer-state style copy).
import os
import tempfile
import uuid

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils._pytree as pytree
from torch.autograd.graph import save_on_cpu, saved_tensors_hooks
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

tmp_dir_obj = tempfile.TemporaryDirectory()
tmp_dir = tmp_dir_obj.name


class SelfDeletingTempFile:
    def __init__(self):
        self.name = os.path.join(tmp_dir, str(uuid.uuid4()))

    def __del__(self):
        os.remove(self.name)


packed = []


def pack_hook(tensor):
    temp_file = SelfDeletingTempFile()
    torch.save(tensor, temp_file.name)
    packed.append(tuple(tensor.shape))
    return temp_file


def unpack_hook(temp_file):
    return torch.load(temp_file.name)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 8)
        self.bn1 = nn.BatchNorm1d(8)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.out(torch.tanh(self.bn1(self.fc(x.flatten(1)))))


model = Net()
x = torch.randn(16, 1, 8, 8)
y = torch.randint(0, 3, (16,))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for step in range(6):
    optimizer.zero_grad()
    hooks = saved_tensors_hooks(pack_hook, unpack_hook) if step % 2 == 0 else save_on_cpu()
    with hooks:
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    print(f"step {step}: loss {loss.item():.6f}")
print("temporary files left:", len(os.listdir(tmp_dir)))
print("tensors packed to disk:", len(packed) > 0)

model.eval()
with torch.no_grad():
    reference = model(x)
    fused_conv = fuse_conv_bn_eval(model.conv, model.bn)
    fused_fc = fuse_linear_bn_eval(model.fc, model.bn1)
    h = F.max_pool2d(F.relu(fused_conv(x)), 2)
    fused = model.out(torch.tanh(fused_fc(h.flatten(1))))
print("fused max difference below 1e-12:", (fused - reference).abs().max().item() < 1e-12)
print("fused conv weight sum:", f"{fused_conv.weight.sum().item():.8f}", "bias:",
      [round(v, 6) for v in fused_conv.bias.tolist()])
print("predictions:", fused.argmax(1).tolist())

state = {"conv": {"weight": model.conv.weight.detach(), "bias": model.conv.bias.detach()},
         "steps": 6, "lr": [0.1, None]}
leaves, spec = pytree.tree_flatten(state)
print("leaves:", len(leaves), "structure:", spec)
halved = pytree.tree_map_only(torch.Tensor, lambda t: t * 0.5, state)
print("halved bias:", [round(v, 6) for v in halved["conv"]["bias"].tolist()], "steps kept:", halved["steps"])
print("all finite:", pytree.tree_all_only(torch.Tensor, lambda t: bool(torch.isfinite(t).all()), halved))
rebuilt = pytree.tree_unflatten(leaves, spec)
print("round trip keys:", list(rebuilt), list(rebuilt["conv"]))
results = {"loss": loss.detach(), "fused": fused, "halved_weight": halved["conv"]["weight"]}
tmp_dir_obj.cleanup()
