# Probabilistic models people write with torch.distributions, every random number from torch's
# seed: a Gaussian mixture fitted by maximum likelihood (MixtureSameFamily over Normals), a
# SAC-style tanh-squashed Gaussian policy (TransformedDistribution with its log-probability
# correction, rsample for the reparameterised actor loss), Poisson regression, a Gamma-noise
# model with rsample through the concentration, and a Beta/Dirichlet/StudentT check.
import math

import torch
import torch.distributions as D
import torch.nn as nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
results = {}

# 1. A Gaussian mixture fitted to samples from a known one.
true = D.MixtureSameFamily(D.Categorical(torch.tensor([0.3, 0.7])),
                           D.Normal(torch.tensor([-2.0, 1.5]), torch.tensor([0.5, 0.8])))
data = true.sample((200,))
logits = torch.zeros(2, requires_grad=True)
locs = torch.tensor([-0.5, 0.5], requires_grad=True)
log_scales = torch.zeros(2, requires_grad=True)
optimizer = torch.optim.Adam([logits, locs, log_scales], lr=0.05)
for step in range(60):
    optimizer.zero_grad()
    model = D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(locs, log_scales.exp()))
    nll = -model.log_prob(data).mean()
    nll.backward()
    optimizer.step()
    if step % 20 == 0:
        print(f"gmm step {step}: nll {nll.item():.6f}")
results["gmm"] = [logits.detach(), locs.detach(), log_scales.detach()]


# 2. A squashed Gaussian policy.
class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 16), nn.ReLU())
        self.mu = nn.Linear(16, 2)
        self.log_std = nn.Linear(16, 2)

    def forward(self, obs):
        h = self.body(obs)
        std = self.log_std(h).clamp(-5, 2).exp()
        dist = D.TransformedDistribution(D.Normal(self.mu(h), std), [D.TanhTransform(cache_size=1)])
        action = dist.rsample()
        return action, dist.log_prob(action).sum(-1)


policy = Policy()
opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
obs = torch.randn(8, 3)
for step in range(5):
    opt.zero_grad()
    action, log_prob = policy(obs)
    q_value = -(action - 0.5).pow(2).sum(-1)
    loss = (0.2 * log_prob - q_value).mean()
    loss.backward()
    opt.step()
    print(f"policy step {step}: loss {loss.item():.6f}")
results["policy"] = policy.mu.weight.detach()

# 3. Poisson regression.
x = torch.rand(50, 2)
counts = D.Poisson((x @ torch.tensor([1.0, 2.0]) + 0.5).exp()).sample()
w = torch.zeros(2, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
for step in range(100):
    rate = (x @ w + b).exp()
    loss = -D.Poisson(rate).log_prob(counts).mean()
    w.grad = b.grad = None
    loss.backward()
    with torch.no_grad():
        w -= 0.05 * w.grad
        b -= 0.05 * b.grad
print(f"poisson: w {w.tolist()}, b {b.item():.6f}")
results["poisson"] = [w.detach(), b.detach(), counts]

# 4. Gamma noise with a learnable concentration, through rsample.
concentration = torch.tensor([2.0, 5.0], requires_grad=True)
rate = torch.tensor([1.0, 0.5], requires_grad=True)
draws = D.Gamma(concentration, rate).rsample((64,))
objective = (draws - 3.0).pow(2).mean()
objective.backward()
results["gamma"] = [draws, concentration.grad, rate.grad]

# 5. More families: samples, densities and divergences.
beta = D.Beta(torch.tensor([2.0, 0.5]), torch.tensor([3.0, 0.5]))
dirichlet = D.Dirichlet(torch.tensor([1.0, 2.0, 3.0]))
student = D.StudentT(torch.tensor(4.0), torch.tensor(1.0), torch.tensor(2.0))
samples = [beta.sample((3,)), dirichlet.sample((2,)), student.rsample((5,))]
results["families"] = samples + [beta.log_prob(samples[0]), dirichlet.entropy(), student.log_prob(samples[2]),
                                 D.kl_divergence(beta, D.Beta(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 1.0]))),
                                 D.kl_divergence(D.Gamma(torch.tensor(2.0), torch.tensor(1.0)),
                                                 D.Gamma(torch.tensor(3.0), torch.tensor(2.0)))]
print("entropy of the Dirichlet:", round(dirichlet.entropy().item(), 8), "log 2:", round(math.log(2), 8))
