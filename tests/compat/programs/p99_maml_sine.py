# MAML on sine-wave regression (Finn et al.), written the two ways PyTorch code does it: with
# torch.func.functional_call on an nn.Module and an OrderedDict of fast weights (learn2learn / higher style),
# and with a hand-written functional network over a list of tensors (the original repository's style). The
# inner loop takes torch.autograd.grad(..., create_graph=True) steps, so the meta-gradient is second order;
# first-order MAML (create_graph=False, detached grads) and Reptile (parameters moved towards the adapted
# weights with torch._foreach_* and lerp_) for comparison; a learned per-parameter inner step size
# (Meta-SGD: nn.ParameterList); tasks drawn from torch's seeded generator.
from collections import OrderedDict

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


def sample_task(generator):
    amplitude = torch.empty(1).uniform_(0.1, 5.0, generator=generator)
    phase = torch.empty(1).uniform_(0, math.pi, generator=generator)
    def draw(k):
        x = torch.rand(k, 1, generator=generator) * 10 - 5
        return x, amplitude * torch.sin(x + phase)
    return draw


class SineNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(OrderedDict([
            ("l1", nn.Linear(1, 40)), ("relu1", nn.ReLU()),
            ("l2", nn.Linear(40, 40)), ("relu2", nn.ReLU()),
            ("out", nn.Linear(40, 1)),
        ]))

    def forward(self, x):
        return self.net(x)


def adapt(model, params, x, y, inner_lr, steps, first_order=False):
    for _ in range(steps):
        loss = F.mse_loss(functional_call(model, params, (x,)), y)
        grads = torch.autograd.grad(loss, params.values(), create_graph=not first_order)
        params = OrderedDict((name, p - inner_lr * (g.detach() if first_order else g))
                             for (name, p), g in zip(params.items(), grads))
    return params


def run_maml(first_order, seed):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = SineNet()
    meta_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = []
    for it in range(8):
        meta_opt.zero_grad()
        meta_loss = 0.0
        for _ in range(4):
            draw = sample_task(g)
            x_s, y_s = draw(10)
            x_q, y_q = draw(10)
            fast = adapt(model, OrderedDict(model.named_parameters()), x_s, y_s, 0.01, 2, first_order)
            meta_loss = meta_loss + F.mse_loss(functional_call(model, fast, x_q), y_q)
        meta_loss = meta_loss / 4
        meta_loss.backward()
        meta_opt.step()
        history.append(round(meta_loss.item(), 5))
    return model, history


maml_model, maml_hist = run_maml(False, 0)
fo_model, fo_hist = run_maml(True, 0)
print("maml", maml_hist)
print("fomaml", fo_hist)
second_order_grad = maml_model.net.l1.weight.grad.clone()
print("second order differs from first order:",
      not torch.allclose(second_order_grad, fo_model.net.l1.weight.grad))


# the original repository's style: weights in a list, the network as a function
def init_weights(generator):
    dims = [(40, 1), (40, 40), (1, 40)]
    weights = []
    for out_f, in_f in dims:
        w = torch.empty(out_f, in_f)
        nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=generator)
        weights += [w.requires_grad_(), torch.zeros(out_f, requires_grad=True)]
    return weights


def forward(x, w):
    x = F.relu(F.linear(x, w[0], w[1]))
    x = F.relu(F.linear(x, w[2], w[3]))
    return F.linear(x, w[4], w[5])


g = torch.Generator().manual_seed(7)
weights = init_weights(g)
inner_lrs = nn.ParameterList([nn.Parameter(torch.full_like(w, 0.01)) for w in weights])  # Meta-SGD
meta_opt = torch.optim.Adam(list(weights) + list(inner_lrs.parameters()), lr=1e-3)
metasgd = []
for it in range(6):
    draw = sample_task(g)
    x_s, y_s = draw(5)
    x_q, y_q = draw(5)
    loss = F.mse_loss(forward(x_s, weights), y_s)
    grads = torch.autograd.grad(loss, weights, create_graph=True)
    fast = [w - lr * gr for w, lr, gr in zip(weights, inner_lrs, grads)]
    q_loss = F.mse_loss(forward(x_q, fast), y_q)
    meta_opt.zero_grad()
    q_loss.backward()
    meta_opt.step()
    metasgd.append([round(loss.item(), 5), round(q_loss.item(), 5)])
print("meta-sgd", metasgd[0], metasgd[-1], round(inner_lrs[4].mean().item(), 7))

# Reptile: adapt a copy with SGD, then move the meta-parameters towards it
torch.manual_seed(3)
reptile = SineNet()
meta_params = list(reptile.parameters())
g = torch.Generator().manual_seed(3)
for it in range(5):
    draw = sample_task(g)
    x, y = draw(10)
    fast = [p.detach().clone().requires_grad_() for p in meta_params]
    inner = torch.optim.SGD(fast, lr=0.02)
    for _ in range(3):
        inner.zero_grad()
        F.mse_loss(functional_call(reptile, dict(zip([n for n, _ in reptile.named_parameters()], fast)), x),
                   y).backward()
        inner.step()
    with torch.no_grad():
        epsilon = 0.5 * (1 - it / 5)
        for p, f in zip(meta_params, fast):
            p.lerp_(f, epsilon)
        diffs = torch._foreach_sub([f.detach() for f in fast], meta_params)
        torch._foreach_mul_(diffs, 0.0)
print("reptile", [round(v, 6) for v in reptile.net.out.weight.flatten()[:5].tolist()])

# adapted predictions on a fresh task, before and after a few inner steps
g = torch.Generator().manual_seed(99)
draw = sample_task(g)
x_s, y_s = draw(10)
x_test = torch.linspace(-5, 5, 7).unsqueeze(1)
params = OrderedDict(maml_model.named_parameters())
before = functional_call(maml_model, params, (x_test,))
adapted = adapt(maml_model, params, x_s, y_s, 0.01, 5)
after = functional_call(maml_model, adapted, (x_test,))
print(before.requires_grad, after.grad_fn is not None)
results = {"maml": maml_hist, "fomaml": fo_hist, "second_order_grad": second_order_grad,
           "fo_grad": fo_model.net.l1.weight.grad, "metasgd": metasgd,
           "inner_lrs": [p.detach() for p in inner_lrs], "reptile": reptile.net.l2.weight.detach(),
           "before": before.detach(), "after": after.detach()}
