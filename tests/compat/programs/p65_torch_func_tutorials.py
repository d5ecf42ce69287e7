# The torch.func tutorials, condensed: per-sample gradients of a small CNN with
# vmap(grad(functional_call)), model ensembling with stack_module_state, Jacobians and Hessians
# with jacrev/jacfwd/hessian, and a functional training step built from grad_and_value.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, grad_and_value, hessian, jacfwd, jacrev, stack_module_state, vmap

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.fc1 = nn.Linear(4 * 3 * 3, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return F.log_softmax(self.fc1(torch.flatten(x, 1)), dim=1)


model = SimpleCNN()
data = torch.randn(8, 1, 8, 8)
targets = torch.randint(10, (8,))
params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}


def compute_loss(params, buffers, sample, target):
    predictions = functional_call(model, (params, buffers), (sample.unsqueeze(0),))
    return F.nll_loss(predictions, target.unsqueeze(0))


per_sample = vmap(grad(compute_loss), in_dims=(None, None, 0, 0))(params, buffers, data, targets)
loop = [torch.autograd.grad(F.nll_loss(model(data[i:i + 1]), targets[i:i + 1]), list(model.parameters()))
        for i in range(8)]
print("per-sample gradients agree with a loop:",
      all(torch.allclose(per_sample[name][i], loop[i][k]) for i in range(8) for k, name in enumerate(params)))

models = [nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)) for _ in range(3)]
stacked_params, stacked_buffers = stack_module_state(models)
base = copy.deepcopy(models[0])  # (the tutorial moves it to the "meta" device, which chainrule lacks)


def one_model(params, buffers, x):
    return functional_call(base, (params, buffers), (x,))


x = torch.randn(5, 4)
ensemble = vmap(one_model, in_dims=(0, 0, None))(stacked_params, stacked_buffers, x)
print("ensemble output", tuple(ensemble.shape))


def f(x):
    return (x.sin() * x.exp()).sum() + (x ** 3).prod()


point = torch.tensor([0.3, -0.7, 1.1])
jac = jacrev(lambda x: x.sin() * x.exp())(point)
jac_fwd = jacfwd(lambda x: x.sin() * x.exp())(point)
hess = hessian(f)(point)
print("jacobians agree:", torch.allclose(jac, jac_fwd))

w = torch.randn(4, 2)
for step in range(3):
    g, loss = grad_and_value(lambda w: ((x @ w).tanh() - 0.5).pow(2).mean())(w)
    w = w - 0.5 * g
    print(f"functional step {step}: loss {loss.item():.8f}")

results = {"per_sample": per_sample["fc1.weight"], "ensemble": ensemble, "jac": jac, "hess": hess, "w": w}
