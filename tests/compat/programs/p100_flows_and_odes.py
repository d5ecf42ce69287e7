# Continuous-time and flow models on 2-D data, as their tutorials write them: a Neural ODE's vector field (an
# MLP taking (t, y) with torch.cat of t expanded) integrated by hand-written Euler and RK4 steps over a
# torch.linspace grid, trained by backpropagating through the solver to fit a spiral (torch.stack of the
# trajectory); an FFJORD-style log-density change with the exact divergence (autograd.grad per dimension with
# create_graph) and Hutchinson's estimator (a Rademacher probe from randint); then RealNVP: affine coupling
# layers with alternating checkerboard masks registered as buffers, tanh-bounded scales, log-determinants
# summed over the log-scales, a MultivariateNormal base (and Independent(Normal) checked against it), the
# inverse pass, sampling, and torch.linalg.slogdet of the autograd Jacobian as a check on the log-determinant.
import math

import torch
import torch.nn as nn
import torch.distributions as D
from torch.autograd.functional import jacobian


class ODEFunc(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 2))
        for m in self.net.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0, std=0.1)
                nn.init.constant_(m.bias, val=0)
        self.nfe = 0

    def forward(self, t, y):
        self.nfe += 1
        t_col = t.expand(*y.shape[:-1], 1)
        return self.net(torch.cat([y, t_col], dim=-1))


def odeint(func, y0, t, method="rk4"):
    ys = [y0]
    y = y0
    for t0, t1 in zip(t[:-1], t[1:]):
        dt = t1 - t0
        if method == "euler":
            y = y + dt * func(t0, y)
        else:
            k1 = func(t0, y)
            k2 = func(t0 + dt / 2, y + dt * k1 / 2)
            k3 = func(t0 + dt / 2, y + dt * k2 / 2)
            k4 = func(t1, y + dt * k3)
            y = y + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6
        ys.append(y)
    return torch.stack(ys)


torch.manual_seed(0)
t = torch.linspace(0.0, 2.0, 11)
true_y0 = torch.tensor([[2.0, 0.0]])
true_A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]])
with torch.no_grad():
    true_y = odeint(lambda t, y: torch.mm(y ** 3, true_A), true_y0, t)
func = ODEFunc()
optimizer = torch.optim.RMSprop(func.parameters(), lr=1e-2)
ode_losses = []
for itr in range(12):
    optimizer.zero_grad()
    batch_t0 = torch.randint(0, 6, (4,))
    batch_y0 = true_y[batch_t0]
    batch_y = torch.stack([true_y[batch_t0 + i] for i in range(4)], dim=0)
    pred_y = odeint(func, batch_y0, t[:4])
    loss = torch.mean(torch.abs(pred_y - batch_y))
    loss.backward()
    optimizer.step()
    ode_losses.append(round(loss.item(), 6))
print("ode", ode_losses[0], ode_losses[-1], "nfe", func.nfe)
with torch.no_grad():
    euler = odeint(func, true_y0, t, method="euler")
    rk4 = odeint(func, true_y0, t)
print("euler vs rk4 gap", round((euler - rk4).abs().max().item(), 6))


# FFJORD's change in log-density: exact trace vs. Hutchinson's estimator
def divergence_exact(f, y):
    div = 0.0
    for i in range(y.shape[1]):
        div += torch.autograd.grad(f[:, i].sum(), y, create_graph=True)[0][:, i]
    return div


def divergence_hutchinson(f, y, e):
    e_dzdx = torch.autograd.grad(f, y, e, create_graph=True)[0]
    return (e_dzdx * e).sum(dim=1)


y = torch.randn(6, 2, requires_grad=True)
f = func(torch.tensor(0.5), y)
exact = divergence_exact(f, y)
probe = torch.randint(0, 2, y.shape).to(y) * 2 - 1
hutch = divergence_hutchinson(f, y, probe)
print("exact == hutchinson (2-D rademacher is exact in expectation only):", exact.shape == hutch.shape)
exact.sum().backward()
print("second-order grad", round(func.net[0].weight.grad.abs().sum().item(), 6))


class CouplingLayer(nn.Module):
    def __init__(self, mask, hidden=32):
        super().__init__()
        self.register_buffer("mask", mask)
        self.s = nn.Sequential(nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, 2), nn.Tanh())
        self.t = nn.Sequential(nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, 2))
        self.scale = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        x_masked = x * self.mask
        s = self.s(x_masked) * self.scale * (1 - self.mask)
        t = self.t(x_masked) * (1 - self.mask)
        z = x_masked + (1 - self.mask) * (x * torch.exp(s) + t)
        return z, s.sum(dim=1)

    def inverse(self, z):
        z_masked = z * self.mask
        s = self.s(z_masked) * self.scale * (1 - self.mask)
        t = self.t(z_masked) * (1 - self.mask)
        return z_masked + (1 - self.mask) * (z - t) * torch.exp(-s)


class RealNVP(nn.Module):
    def __init__(self, n_layers=4):
        super().__init__()
        masks = [torch.tensor([1.0, 0.0]) if i % 2 == 0 else torch.tensor([0.0, 1.0]) for i in range(n_layers)]
        self.layers = nn.ModuleList([CouplingLayer(m) for m in masks])
        self.prior = D.MultivariateNormal(torch.zeros(2), torch.eye(2))

    def forward(self, x):
        log_det = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def log_prob(self, x):
        z, log_det = self(x)
        return self.prior.log_prob(z) + log_det

    def sample(self, n):
        z = self.prior.sample((n,))
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z


def two_moons(n):
    theta = torch.rand(n) * math.pi
    upper = torch.rand(n) < 0.5
    x = torch.where(upper, torch.cos(theta), 1 - torch.cos(theta))
    y = torch.where(upper, torch.sin(theta), 0.5 - torch.sin(theta))
    return torch.stack([x, y], dim=1) + 0.05 * torch.randn(n, 2)


torch.manual_seed(1)
flow = RealNVP()
opt = torch.optim.Adam(flow.parameters(), lr=5e-3)
nll = []
for step in range(20):
    x = two_moons(64)
    loss = -flow.log_prob(x).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    nll.append(round(loss.item(), 5))
print("realnvp nll", nll[0], nll[-1])

x = two_moons(5)
z, log_det = flow(x)
x_back = flow.layers[-1].inverse(z)
for layer in reversed(flow.layers[:-1]):
    x_back = layer.inverse(x_back)
print("inverse error small", (x_back - x).abs().max().item() < 1e-5)
jac_logdets = torch.stack([torch.linalg.slogdet(jacobian(lambda v: flow(v.unsqueeze(0))[0].squeeze(0), xi))[1]
                           for xi in x])
print("log-det matches autograd jacobian", torch.allclose(jac_logdets, log_det.detach(), atol=1e-5))
base = D.Independent(D.Normal(torch.zeros(2), torch.ones(2)), 1)
print("independent == mvn", torch.allclose(base.log_prob(z), flow.prior.log_prob(z)), base.event_shape)
torch.manual_seed(5)
with torch.no_grad():
    samples = flow.sample(6)
print(samples.shape)
results = {"ode_losses": ode_losses, "rk4": rk4, "euler": euler, "exact_div": exact.detach(),
           "hutch": hutch.detach(), "ode_grad": func.net[0].weight.grad, "nll": nll, "z": z.detach(),
           "log_det": log_det.detach(), "jac_logdets": jac_logdets, "samples": samples,
           "scales": [layer.scale.detach() for layer in flow.layers]}
