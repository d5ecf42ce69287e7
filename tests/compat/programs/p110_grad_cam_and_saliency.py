# Grad-CAM and saliency maps the way older and newer tutorials write them: activations caught
# by a forward hook, gradients by the deprecated register_backward_hook (older scripts) and by
# register_full_backward_hook (newer), a vanilla saliency map from the input's gradient,
# SmoothGrad, guided backprop through ReLU backward hooks, and the chain rule walked node by
# node with grad_fn(grad) on a tiny graph.
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.simplefilter("ignore", FutureWarning)  # (register_backward_hook is deprecated in PyTorch too)
rng = np.random.default_rng(110)


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
            nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc(self.pool(self.features(x)).flatten(1))


model = SmallNet().double()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.5))
model.eval()
image = torch.from_numpy(rng.standard_normal((1, 1, 8, 8)))
target_layer = model.features[2]


def grad_cam(register):
    """The class-activation map of the top class at ``target_layer``."""
    store = {}

    def keep_activation(module, inputs, output):
        store["activation"] = output.detach()

    def keep_gradient(module, grad_input, grad_output):
        store["gradient"] = grad_output[0].detach()

    handles = [target_layer.register_forward_hook(keep_activation), register(target_layer, keep_gradient)]
    logits = model(image)
    top = logits.argmax(dim=1).item()
    model.zero_grad()
    logits[0, top].backward()
    for handle in handles:
        handle.remove()
    weights = store["gradient"].mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * store["activation"]).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=image.shape[2:], mode="bilinear", align_corners=False)
    cam = (cam - cam.min()) / (cam.max() - cam.min() + 1e-8)
    return top, cam[0, 0]


top_old, cam_old = grad_cam(lambda layer, hook: layer.register_backward_hook(hook))
# (a module keeps one kind of backward hook: the full one goes on a fresh copy of the layer)
target_layer = model.features[2] = nn.Conv2d(4, 6, 3, padding=1).double()
with torch.no_grad():
    target_layer.weight.copy_(torch.from_numpy(rng.standard_normal((6, 4, 3, 3)) * 0.5))
    target_layer.bias.zero_()
top_new, cam_new = grad_cam(lambda layer, hook: layer.register_full_backward_hook(hook))
print("top classes", top_old, top_new)

# Vanilla saliency: |d score / d input|, the max over channels.
x = image.clone().requires_grad_(True)
score = model(x)[0, top_new]
score.backward()
saliency = x.grad.abs().amax(dim=1)[0]

# SmoothGrad: the gradient averaged over noisy copies of the input.
noise = torch.from_numpy(rng.standard_normal((8, 1, 1, 8, 8)) * 0.1)
smooth = torch.zeros_like(image)
for n in noise:
    noisy = (image + n).requires_grad_(True)
    model(noisy)[0, top_new].backward()
    smooth += noisy.grad / len(noise)

# Guided backprop: ReLUs pass back only positive gradients.
def clamp_gradient(module, grad_input, grad_output):
    return (grad_input[0].clamp(min=0.0),)


handles = [m.register_full_backward_hook(clamp_gradient) for m in model.modules() if isinstance(m, nn.ReLU)]
x = image.clone().requires_grad_(True)
model(x)[0, top_new].backward()
guided = x.grad.clone()
for handle in handles:
    handle.remove()

# The chain rule node by node on L = (y - w x)^2, as the tutorials walk it.
w = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
loss = ((torch.tensor([12.0], dtype=torch.float64) - w * 5.0) ** 2).sum()
node, grad, steps = loss.grad_fn, torch.tensor(1.0, dtype=torch.float64), []
while type(node).__name__ != "AccumulateGrad":
    out = node(grad)
    out = out if isinstance(out, tuple) else (out,)
    steps.append((node.name(), [None if g is None else g.tolist() for g in out]))
    node, grad = next((n, g) for (n, _), g in zip(node.next_functions, out) if n is not None)
print(steps)

results = {"cam_old": cam_old, "cam_new": cam_new, "saliency": saliency, "smooth": smooth, "guided": guided,
           "chain": [s[0] for s in steps], "reaches_w": grad}
