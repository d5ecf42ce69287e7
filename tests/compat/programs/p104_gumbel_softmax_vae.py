# A categorical VAE with the Gumbel-softmax trick (Jang et al.), the way the popular PyTorch ports write it:
# hand-written sample_gumbel (-log(-log(U + eps) + eps) from torch.rand), gumbel_softmax_sample with a
# temperature, the hard straight-through variant (max/indices, zeros_like().scatter_, (y_hard - y).detach() + y),
# next to F.gumbel_softmax(logits, tau, hard=True) drawing from torch's seeded generator, the temperature
# annealed with np-free math.exp/max, the KL to a uniform prior over categories (q * log(q * K + 1e-20)), BCE
# with logits summed over pixels; then the torch.distributions forms: RelaxedOneHotCategorical.rsample,
# OneHotCategoricalStraightThrough, RelaxedBernoulli, and ContinuousBernoulli's log-normaliser in a loss.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import distributions as dist


def sample_gumbel(shape, eps=1e-20):
    U = torch.rand(shape)
    return -torch.log(-torch.log(U + eps) + eps)


def gumbel_softmax_sample(logits, temperature):
    y = logits + sample_gumbel(logits.size())
    return F.softmax(y / temperature, dim=-1)


def gumbel_softmax(logits, temperature, latent_dim, categorical_dim, hard=False):
    y = gumbel_softmax_sample(logits, temperature)
    if not hard:
        return y.view(-1, latent_dim * categorical_dim)
    shape = y.size()
    _, ind = y.max(dim=-1)
    y_hard = torch.zeros_like(y).view(-1, shape[-1])
    y_hard.scatter_(1, ind.view(-1, 1), 1)
    y_hard = y_hard.view(*shape)
    y_hard = (y_hard - y).detach() + y
    return y_hard.view(-1, latent_dim * categorical_dim)


class VAE_gumbel(nn.Module):
    def __init__(self, temp, latent_dim=4, categorical_dim=3, use_builtin=False):
        super(VAE_gumbel, self).__init__()
        self.latent_dim, self.categorical_dim = latent_dim, categorical_dim
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 24)
        self.fc3 = nn.Linear(latent_dim * categorical_dim, 24)
        self.fc4 = nn.Linear(24, 32)
        self.fc5 = nn.Linear(32, 16)
        self.relu = nn.ReLU()
        self.use_builtin = use_builtin

    def encode(self, x):
        h1 = self.relu(self.fc1(x))
        return self.relu(self.fc2(h1))

    def decode(self, z):
        h3 = self.relu(self.fc3(z))
        h4 = self.relu(self.fc4(h3))
        return self.fc5(h4)

    def forward(self, x, temp, hard):
        q = self.encode(x.view(-1, 16)).view(-1, 8, 3)[:, : self.latent_dim]
        q_y = q.reshape(q.size(0), self.latent_dim, self.categorical_dim)
        if self.use_builtin:
            z = F.gumbel_softmax(q_y, tau=temp, hard=hard).view(-1, self.latent_dim * self.categorical_dim)
        else:
            z = gumbel_softmax(q_y, temp, self.latent_dim, self.categorical_dim, hard)
        return self.decode(z), F.softmax(q_y, dim=-1).reshape(*q.size())


def loss_function(recon_x, x, qy, categorical_dim=3):
    BCE = F.binary_cross_entropy_with_logits(recon_x, x.view(-1, 16), reduction="sum") / x.shape[0]
    log_ratio = torch.log(qy * categorical_dim + 1e-20)
    KLD = torch.sum(qy * log_ratio, dim=-1).mean()
    return BCE + KLD


torch.manual_seed(0)
patterns = (torch.rand(3, 16) > 0.5).float()
data = patterns[torch.randint(0, 3, (48,))]
data = torch.where(torch.rand_like(data) < 0.05, 1 - data, data)
results = {}
for use_builtin in (False, True):
    torch.manual_seed(1)
    temp, temp_min, ANNEAL_RATE = 1.0, 0.5, 0.03
    model = VAE_gumbel(temp, use_builtin=use_builtin)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = []
    for epoch in range(4):
        for batch_idx in range(0, 48, 16):
            x = data[batch_idx: batch_idx + 16]
            optimizer.zero_grad()
            recon_batch, qy = model(x, temp, hard=batch_idx == 32)
            loss = loss_function(recon_batch, x, qy)
            loss.backward()
            optimizer.step()
        temp = max(temp * math.exp(-ANNEAL_RATE * (epoch + 1)), temp_min)
        history.append([round(loss.item(), 5), round(temp, 6)])
    key = "builtin" if use_builtin else "manual"
    print(key, history)
    results[key] = {"history": history, "fc3": model.fc3.weight.detach(), "qy": qy.detach()}

# what hard=True gives: one-hot forward values, soft gradients
torch.manual_seed(2)
logits = torch.randn(5, 4, requires_grad=True)
y_hard = F.gumbel_softmax(logits, tau=0.7, hard=True)
y_soft = F.gumbel_softmax(logits, tau=0.7)
(y_hard * torch.arange(4.0)).sum().backward()
print(y_hard.sum(-1).tolist(), y_soft.argmax(-1).tolist())
results["hard"] = y_hard.detach()
results["soft"] = y_soft.detach()
results["hard_grad"] = logits.grad

torch.manual_seed(3)
probs = torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
relaxed = dist.RelaxedOneHotCategorical(torch.tensor(0.5), probs=probs)
st = dist.OneHotCategoricalStraightThrough(probs=probs)
rb = dist.RelaxedBernoulli(torch.tensor(0.3), logits=torch.tensor([0.0, 1.5, -2.0]))
r_sample = relaxed.rsample((2,))
st_sample = st.rsample()
rb_sample = rb.rsample()
print(r_sample.shape, st_sample.tolist(), relaxed.log_prob(r_sample).shape)
cb_logits = torch.tensor([0.3, -1.0, 2.0], requires_grad=True)
cb = dist.ContinuousBernoulli(logits=cb_logits)
cb_loss = -cb.log_prob(torch.tensor([0.1, 0.5, 0.95])).sum()
cb_loss.backward()
print("cb", round(cb_loss.item(), 6), cb.mean.tolist())
results["relaxed"] = r_sample
results["relaxed_logp"] = relaxed.log_prob(r_sample)
results["st"] = st_sample
results["rb"] = rb_sample
results["cb_grad"] = cb_logits.grad
