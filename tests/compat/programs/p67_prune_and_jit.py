# PyTorch's "Pruning Tutorial", condensed, then TorchScript: LeNet's conv1 pruned at random and by
# L1 and L2 structure (the _orig parameters, _mask buffers and the pruning history), pruning made
# permanent, per-layer and global magnitude pruning with a @torch.jit.script sparsity helper, a
# custom pruning method, a few training steps of the pruned network (the masked entries stay 0),
# and a torch.jit.trace of the trained model saved with torch.jit.save and loaded back.
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune

torch.manual_seed(0)


class LeNet(nn.Module):
    def __init__(self):
        super(LeNet, self).__init__()
        # 1 input image channel, 6 output channels, 5x5 square conv kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5x5 image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


@torch.jit.script
def sparsity(t: torch.Tensor) -> float:
    return 100.0 * float((t == 0).sum()) / float(t.numel())


model = LeNet()
module = model.conv1
print([name for name, _ in module.named_parameters()], list(module.named_buffers()))

prune.random_unstructured(module, name="weight", amount=0.3)
print([name for name, _ in module.named_parameters()], [name for name, _ in module.named_buffers()])
print(module.weight[0, 0])
print([type(hook).__name__ for hook in module._forward_pre_hooks.values()])

prune.l1_unstructured(module, name="bias", amount=3)
print(module.bias_mask)
print(module.bias)

prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
print(module.weight_mask.sum(dim=(1, 2, 3)))
for hook in module._forward_pre_hooks.values():
    if hook._tensor_name == "weight":  # select out the correct hook
        break
print([type(method).__name__ for method in hook])
print(list(model.state_dict().keys()))

prune.remove(module, "weight")
print([name for name, _ in module.named_parameters()], [name for name, _ in module.named_buffers()])
print(f"conv1.weight sparsity after remove: {sparsity(module.weight):.2f}%")

new_model = LeNet()
for name, module in new_model.named_modules():
    # prune 20% of connections in all 2D-conv layers
    if isinstance(module, torch.nn.Conv2d):
        prune.l1_unstructured(module, name="weight", amount=0.2)
    # prune 40% of connections in all linear layers
    elif isinstance(module, torch.nn.Linear):
        prune.l1_unstructured(module, name="weight", amount=0.4)
print(dict(new_model.named_buffers()).keys())  # to verify that all masks exist

model = LeNet()
parameters_to_prune = (
    (model.conv1, "weight"),
    (model.conv2, "weight"),
    (model.fc1, "weight"),
    (model.fc2, "weight"),
    (model.fc3, "weight"),
)
prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured, amount=0.2)
for layer, _ in parameters_to_prune:
    print(f"Sparsity in {type(layer).__name__} weight {tuple(layer.weight.shape)}: {sparsity(layer.weight):.2f}%")
total_zeros = sum(float(torch.sum(layer.weight == 0)) for layer, _ in parameters_to_prune)
total = sum(float(layer.weight.nelement()) for layer, _ in parameters_to_prune)
print(f"Global sparsity: {100.0 * total_zeros / total:.2f}%")
print("pruned:", prune.is_pruned(model), prune.is_pruned(LeNet()))


class FooBarPruningMethod(prune.BasePruningMethod):
    """Prune every other entry in a tensor"""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


def foobar_unstructured(module, name):
    FooBarPruningMethod.apply(module, name)
    return module


foobar_unstructured(model.fc3, name="bias")
print(model.fc3.bias_mask)

# Fine-tune the pruned network: the gradient reaches weight_orig masked, the pruned weights stay 0.
images = torch.randn(16, 1, 32, 32)
labels = torch.randint(0, 10, (16,))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
losses = []
for step in range(5):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    print(f"step {step}: loss {loss.item():.5f}")
print("masked gradient entries are 0:", bool((model.fc1.weight_orig.grad[model.fc1.weight_mask == 0] == 0).all()))
print(f"fc1 sparsity while training: {sparsity(model.fc1.weight):.2f}%")
for layer, name in parameters_to_prune + ((model.fc3, "bias"),):
    prune.remove(layer, name)
print("pruned after remove:", prune.is_pruned(model), list(model.state_dict().keys())[:4])

# TorchScript: trace the trained model, save it, load it back; the numbers are the model's.
model.eval()
example = torch.randn(2, 1, 32, 32)
traced = torch.jit.trace(model, example)
print(traced)
print(type(traced).__name__, traced.original_name, traced.fc1.original_name)
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "lenet_pruned.pt")
    torch.jit.save(traced, path)
    print("saved:", os.listdir(folder))
    loaded = torch.jit.load(path)
print(type(loaded).__name__, loaded.original_name)
batch = torch.randn(3, 1, 32, 32)
with torch.no_grad():
    eager, from_trace, from_file = model(batch), traced(batch), loaded(batch)
print(from_file)
print("trace == eager:", torch.equal(from_trace, eager), "file == eager:", torch.equal(from_file, eager))
print(f"fc1 sparsity of the loaded model: {sparsity(loaded.fc1.weight):.2f}%")
print("scripting/tracing now:", torch.jit.is_scripting(), torch.jit.is_tracing())

results = {
    "losses": losses,
    "fc1_weight": model.fc1.weight.detach(),
    "conv1_weight": model.conv1.weight.detach(),
    "fc3_bias": model.fc3.bias.detach(),
    "loaded_out": from_file,
    "new_model_fc2_mask": new_model.fc2.weight_mask,
}
