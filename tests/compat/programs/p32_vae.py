# A tiny VAE: the reparameterization trick (noise drawn in NumPy, passed in), the KL term,
# binary cross entropy summed over pixels.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class VAE(nn.Module):
    def __init__(self, d_in=12, d_hidden=10, d_latent=2):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc21 = nn.Linear(d_hidden, d_latent)
        self.fc22 = nn.Linear(d_hidden, d_latent)
        self.fc3 = nn.Linear(d_latent, d_hidden)
        self.fc4 = nn.Linear(d_hidden, d_in)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps):
        mu, logvar = self.encode(x.view(-1, 12))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 12), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD, BCE, KLD


rng = np.random.default_rng(29)
model = VAE()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.standard_normal(p.shape) * 0.4, dtype=torch.float32))
data = torch.tensor(rng.random((8, 3, 4)), dtype=torch.float32)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
history = []
for epoch in range(6):
    model.train()
    eps = torch.from_numpy(rng.standard_normal((8, 2)).astype(np.float32))
    optimizer.zero_grad()
    recon, mu, logvar = model(data, eps)
    loss, bce, kld = loss_function(recon, data, mu, logvar)
    loss.backward()
    optimizer.step()
    history.append([loss.item() / len(data), bce.item(), kld.item()])
    print("Epoch: {} Average loss: {:.4f}".format(epoch, loss.item() / len(data)))
with torch.no_grad():
    sample = model.decode(torch.from_numpy(rng.standard_normal((3, 2)).astype(np.float32))).view(3, 1, 3, 4)
results = {"history": history, "sample": sample, "mu": mu.detach(), "params": [p.detach() for p in model.parameters()]}
