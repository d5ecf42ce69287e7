# WGAN-GP as in the improved-WGAN reference code: the critic's gradient penalty from torch.autograd.grad with
# create_graph=True on interpolates wrapped in autograd.Variable, backward(one) / backward(mone) on 0-dim
# means, requires_grad toggled on the critic between phases, Adam with betas (0.5, 0.9), LayerNorm in the critic.
import torch
import torch.nn as nn
from torch import autograd

torch.manual_seed(1)


class Generator(nn.Module):
    def __init__(self, nz=4, hidden=32, out=2):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(nz, hidden), nn.ReLU(True), nn.Linear(hidden, hidden), nn.ReLU(True),
                                  nn.Linear(hidden, out))

    def forward(self, noise):
        return self.main(noise)


class Critic(nn.Module):
    def __init__(self, inp=2, hidden=32):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(inp, hidden), nn.LeakyReLU(0.2, inplace=True), nn.LayerNorm(hidden),
                                  nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.main(x).view(-1)


def calc_gradient_penalty(netD, real_data, fake_data, LAMBDA=10.0):
    alpha = torch.rand(real_data.size(0), 1)
    alpha = alpha.expand(real_data.size())
    interpolates = alpha * real_data + ((1 - alpha) * fake_data)
    interpolates = autograd.Variable(interpolates, requires_grad=True)
    disc_interpolates = netD(interpolates)
    gradients = autograd.grad(outputs=disc_interpolates, inputs=interpolates,
                              grad_outputs=torch.ones(disc_interpolates.size()),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA
    return gradient_penalty


def real_batch(n=64):
    centers = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    idx = torch.randint(0, 4, (n,))
    return centers[idx] + 0.1 * torch.randn(n, 2)


netG, netD = Generator(), Critic()
optimizerD = torch.optim.Adam(netD.parameters(), lr=1e-4, betas=(0.5, 0.9))
optimizerG = torch.optim.Adam(netG.parameters(), lr=1e-4, betas=(0.5, 0.9))
one = torch.tensor(1, dtype=torch.float)
mone = one * -1
history = []
for iteration in range(6):
    for p in netD.parameters():
        p.requires_grad = True
    for iter_d in range(3):
        real = real_batch()
        netD.zero_grad()
        D_real = netD(real).mean()
        D_real.backward(mone)
        noise = torch.randn(64, 4)
        with torch.no_grad():
            fake = netG(noise)
        D_fake = netD(fake).mean()
        D_fake.backward(one)
        gradient_penalty = calc_gradient_penalty(netD, real.data, fake.data)
        gradient_penalty.backward()
        D_cost = D_fake - D_real + gradient_penalty
        Wasserstein_D = D_real - D_fake
        optimizerD.step()
    for p in netD.parameters():
        p.requires_grad = False
    netG.zero_grad()
    fake = netG(torch.randn(64, 4))
    G = netD(fake).mean()
    G.backward(mone)
    G_cost = -G
    optimizerG.step()
    history.append([D_cost.item(), G_cost.item(), Wasserstein_D.item(), gradient_penalty.item()])
    print(f"iter {iteration} D {D_cost.item():.5f} G {G_cost.item():.5f} W {Wasserstein_D.item():.5f}")

gnorm = torch.stack([p.grad.norm() for p in netG.parameters()])
results = {"history": history, "gnorm": gnorm, "dgrad": [p.grad.clone() for p in netD.parameters()],
           "weights": [p.detach().clone() for p in netG.parameters()]}
