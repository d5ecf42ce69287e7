# Reparameterised gradients through the gamma family's samplers, every random number from torch's
# seed: a Beta variational posterior for a coin's bias and a Dirichlet one for a die's faces,
# fitted by maximising a Monte Carlo ELBO through rsample (implicit reparameterisation: the
# gradient of a Beta, Dirichlet or Gamma draw in its concentrations), and a Gamma-Poisson rate
# posterior, in float32 as such scripts run.
import torch
import torch.distributions as dist
import torch.nn.functional as F

torch.manual_seed(3)
results = {}

# 1. A coin: Beta(a, b) guide, Beta(2, 2) prior, Bernoulli likelihood.
flips = torch.tensor([1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0])
raw = torch.zeros(2, requires_grad=True)
prior = dist.Beta(torch.tensor(2.0), torch.tensor(2.0))
optimizer = torch.optim.Adam([raw], lr=0.1)
for step in range(30):
    optimizer.zero_grad()
    a, b = F.softplus(raw)
    guide = dist.Beta(a, b)
    p = guide.rsample((16,))
    elbo = (dist.Bernoulli(probs=p.unsqueeze(-1)).log_prob(flips).sum(-1) + prior.log_prob(p)
            - guide.log_prob(p)).mean()
    (-elbo).backward()
    optimizer.step()
    if step % 10 == 0:
        print(f"beta step {step}: elbo {elbo.item():.5f}")
results["beta"] = [F.softplus(raw).detach(), elbo.detach()]

# 2. A die: Dirichlet guide over the six faces' probabilities.
counts = torch.tensor([3.0, 7.0, 2.0, 9.0, 4.0, 5.0])
raw_concentration = torch.zeros(6, requires_grad=True)
prior = dist.Dirichlet(torch.full((6,), 1.5))
optimizer = torch.optim.Adam([raw_concentration], lr=0.1)
for step in range(30):
    optimizer.zero_grad()
    guide = dist.Dirichlet(F.softplus(raw_concentration) + 0.1)
    probs = guide.rsample((8,))
    elbo = (dist.Multinomial(total_count=30, probs=probs).log_prob(counts) + prior.log_prob(probs) - guide.log_prob(probs)).mean()
    (-elbo).backward()
    optimizer.step()
print("dirichlet guide mean:", [round(v, 4) for v in guide.mean.tolist()])
results["dirichlet"] = [F.softplus(raw_concentration).detach(), elbo.detach()]

# 3. A Poisson rate with a Gamma guide, the KL term in closed form.
events = torch.tensor([4.0, 6.0, 3.0, 5.0, 7.0, 2.0])
log_params = torch.zeros(2, requires_grad=True)
prior = dist.Gamma(torch.tensor(2.0), torch.tensor(0.5))
optimizer = torch.optim.SGD([log_params], lr=0.02)
for step in range(40):
    optimizer.zero_grad()
    guide = dist.Gamma(*log_params.exp())
    rate = guide.rsample((32,))
    expected_log_likelihood = dist.Poisson(rate.unsqueeze(-1)).log_prob(events).sum(-1).mean()
    loss = dist.kl_divergence(guide, prior) - expected_log_likelihood
    loss.backward()
    optimizer.step()
print(f"gamma guide: concentration {log_params.exp()[0].item():.4f}, rate {log_params.exp()[1].item():.4f}")
results["gamma"] = [log_params.exp().detach(), loss.detach()]
