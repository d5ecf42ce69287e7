# A GAN step pattern: two networks, two optimizers, detach() for the discriminator update,
# BCELoss against ones/zeros labels, LeakyReLU(inplace=True).
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(30)
G = nn.Sequential(nn.Linear(3, 16), nn.LeakyReLU(0.2, inplace=True), nn.Linear(16, 2))
D = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2, inplace=True), nn.Linear(16, 1), nn.Sigmoid())
for net in (G, D):
    for p in net.parameters():
        p.data.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.5))
criterion = nn.BCELoss()
optD = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
optG = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
real_data = torch.from_numpy(rng.standard_normal((16, 2)).astype(np.float32) * 0.5 + 2.0)
log = []
for it in range(8):
    b = real_data.size(0)
    noise = torch.from_numpy(rng.standard_normal((b, 3)).astype(np.float32))
    real_label = torch.ones(b, 1)
    fake_label = torch.zeros(b, 1)

    D.zero_grad()
    out_real = D(real_data)
    errD_real = criterion(out_real, real_label)
    errD_real.backward()
    fake = G(noise)
    out_fake = D(fake.detach())
    errD_fake = criterion(out_fake, fake_label)
    errD_fake.backward()
    errD = errD_real + errD_fake
    optD.step()

    G.zero_grad()
    out = D(fake)
    errG = criterion(out, real_label)
    errG.backward()
    optG.step()
    log.append((errD.item(), errG.item(), out_real.mean().item(), out_fake.mean().item()))
    print(f"[{it}] Loss_D: {errD.item():.4f} Loss_G: {errG.item():.4f} D(x): {out_real.mean().item():.4f}")
results = {"log": log, "G": [p.detach() for p in G.parameters()], "D": [p.detach() for p in D.parameters()],
           "G_grad_is_set": [p.grad is not None for p in G.parameters()]}
