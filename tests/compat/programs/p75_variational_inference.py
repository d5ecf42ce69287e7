# Variational inference and count models the way Pyro-style PyTorch code writes them, every random
# number from torch's seed: a Bayesian logistic regression fitted by stochastic variational
# inference (a mean-field Normal guide whose scales are unconstrained parameters mapped through
# transform_to(constraints.positive), a Gamma prior's parameters through biject_to), a
# Dirichlet-simplex guide through the stick-breaking bijection, a Binomial and a NegativeBinomial
# count model fitted by maximum likelihood, a Weibull survival log-likelihood with censoring, and
# a few of the newer families' samples, densities and divergences.
import torch
import torch.distributions as dist
from torch.distributions import biject_to, constraints, transform_to
from torch.distributions.binomial import Binomial
from torch.distributions.negative_binomial import NegativeBinomial
from torch.distributions.weibull import Weibull

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)
results = {}

# 1. Bayesian logistic regression by SVI.
n, d = 80, 3
x = torch.randn(n, d)
true_w = torch.tensor([1.5, -2.0, 0.5])
y = dist.Bernoulli(logits=x @ true_w).sample()

loc = torch.zeros(d, requires_grad=True)
unconstrained_scale = torch.full((d,), -1.0, requires_grad=True)
to_positive = transform_to(constraints.positive)
prior = dist.Normal(torch.zeros(d), torch.ones(d))
optimizer = torch.optim.Adam([loc, unconstrained_scale], lr=0.05)
for step in range(150):
    optimizer.zero_grad()
    guide = dist.Independent(dist.Normal(loc, to_positive(unconstrained_scale)), 1)
    w = guide.rsample((4,))
    log_likelihood = dist.Bernoulli(logits=w @ x.T).log_prob(y).sum(-1)
    elbo = (log_likelihood + dist.Independent(prior, 1).log_prob(w) - guide.log_prob(w)).mean()
    (-elbo).backward()
    optimizer.step()
    if step % 50 == 0:
        print(f"svi step {step}: elbo {elbo.item():.6f}")
scale = to_positive(unconstrained_scale).detach()
kl = dist.kl_divergence(dist.Normal(loc.detach(), scale), prior).sum()
print(f"posterior mean {loc.detach().tolist()}, kl to prior {kl.item():.6f}")
results["svi"] = [loc.detach(), scale, kl, str(to_positive), str(constraints.positive)]

# 2. A Gamma's parameters kept positive by biject_to; a point estimate by maximum likelihood.
data = dist.Gamma(torch.tensor(3.0), torch.tensor(2.0)).sample((200,))
bijection = biject_to(dist.Gamma.arg_constraints["concentration"])
raw = torch.zeros(2, requires_grad=True)
optimizer = torch.optim.Adam([raw], lr=0.1)
for step in range(100):
    optimizer.zero_grad()
    concentration, rate = bijection(raw)
    nll = -dist.Gamma(concentration, rate).log_prob(data).mean()
    nll.backward()
    optimizer.step()
print(f"gamma fit: {bijection(raw).tolist()}, nll {nll.item():.6f}")
results["gamma"] = [bijection(raw).detach(), nll.detach(), bijection.inv(bijection(raw)).detach()]

# 3. A Dirichlet guide over mixture weights: the simplex through stick breaking.
simplex = biject_to(constraints.simplex)
raw_weights = torch.zeros(2, requires_grad=True)  # (K - 1 unconstrained values for K weights)
target = torch.tensor([0.6, 0.3, 0.1])
optimizer = torch.optim.SGD([raw_weights], lr=0.5)
for step in range(60):
    optimizer.zero_grad()
    weights = simplex(raw_weights)
    loss = -dist.Dirichlet(10 * target + 1).log_prob(weights) - simplex.log_abs_det_jacobian(raw_weights, weights)
    loss.backward()
    optimizer.step()
print("stick-breaking weights:", [round(v, 6) for v in simplex(raw_weights).tolist()])
results["simplex"] = [simplex(raw_weights).detach(), transform_to(constraints.simplex)(simplex(raw_weights).log()).detach()]

# 4. Count models by maximum likelihood.
trials = torch.tensor([10.0, 20.0, 15.0, 30.0, 25.0, 12.0])
features = torch.linspace(-1, 1, 6)
successes = Binomial(trials, logits=0.8 * features - 0.3).sample()
coefficients = torch.zeros(2, requires_grad=True)
optimizer = torch.optim.LBFGS([coefficients], lr=0.5, max_iter=30)


def closure():
    optimizer.zero_grad()
    loss = -Binomial(trials, logits=coefficients[0] * features + coefficients[1]).log_prob(successes).sum()
    loss.backward()
    return loss


optimizer.step(closure)
print(f"binomial fit: {coefficients.detach().tolist()}")

counts = NegativeBinomial(torch.tensor(4.0), probs=torch.tensor(0.3)).sample((300,))
log_total, logit = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
optimizer = torch.optim.Adam([log_total, logit], lr=0.05)
for step in range(200):
    optimizer.zero_grad()
    nll = -NegativeBinomial(log_total.exp(), logits=logit).log_prob(counts).mean()
    nll.backward()
    optimizer.step()
print(f"negative binomial fit: total_count {log_total.exp().item():.6f}, logit {logit.item():.6f}")
results["counts"] = [successes, coefficients.detach(), counts, log_total.detach(), logit.detach()]

# 5. Weibull survival with right censoring: observed events contribute the density, censored
# ones the survival function exp(-(t / scale) ** k).
times = Weibull(torch.tensor(2.0), torch.tensor(1.5)).sample((120,))
censor_at = torch.rand(120) * 4
observed = times <= censor_at
t = torch.where(observed, times, censor_at)
log_scale, log_k = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
optimizer = torch.optim.Adam([log_scale, log_k], lr=0.05)
for step in range(150):
    optimizer.zero_grad()
    model = Weibull(log_scale.exp(), log_k.exp())
    log_survival = -(t / model.scale) ** model.concentration
    loglik = torch.where(observed, model.log_prob(t), log_survival).sum()
    (-loglik).backward()
    optimizer.step()
print(f"weibull fit: scale {log_scale.exp().item():.6f}, k {log_k.exp().item():.6f}, loglik {loglik.item():.6f}")
results["weibull"] = [observed.sum(), log_scale.detach(), log_k.detach(), model.mean.detach(), model.entropy().detach()]

# 6. The newer families: seeded samples, densities, moments and divergences.
families = [dist.Pareto(torch.tensor(1.0), torch.tensor(3.0)), dist.HalfCauchy(torch.tensor(0.7)),
            dist.InverseGamma(torch.tensor(3.0), torch.tensor(2.0)), dist.Kumaraswamy(torch.tensor(2.0), torch.tensor(3.0)),
            dist.FisherSnedecor(torch.tensor(5.0), torch.tensor(8.0)), dist.VonMises(torch.tensor(0.3), torch.tensor(2.0)),
            dist.ContinuousBernoulli(torch.tensor(0.3)), dist.LogisticNormal(torch.zeros(2), torch.ones(2)),
            dist.LowRankMultivariateNormal(torch.zeros(3), torch.eye(3)[:, :2], torch.ones(3))]
rows = []
for family in families:
    sample = family.sample((3,))
    rows.append([sample, family.log_prob(sample)])
    print(type(family).__name__, family.support, [round(v, 6) for v in family.log_prob(sample).flatten().tolist()])
results["families"] = rows
results["kl"] = [dist.kl_divergence(dist.Pareto(torch.tensor(1.0), torch.tensor(3.0)),
                                    dist.Pareto(torch.tensor(0.5), torch.tensor(2.0))),
                 dist.kl_divergence(dist.ContinuousBernoulli(torch.tensor(0.3)),
                                    dist.ContinuousBernoulli(torch.tensor(0.8))),
                 dist.kl_divergence(dist.Binomial(10, torch.tensor(0.3)), dist.Binomial(10, torch.tensor(0.6)))]
