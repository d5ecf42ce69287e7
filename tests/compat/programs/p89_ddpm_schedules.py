# A denoising diffusion model on 2-D points in the style of "The Annotated Diffusion Model" / DDPM:
# linear and cosine beta schedules from torch.linspace, alphas_cumprod with cumprod and F.pad, the extract()
# helper (gather + reshape), q_sample, sinusoidal time embeddings, an MLP denoiser trained with F.smooth_l1_loss
# on predicted noise, ancestral sampling under torch.no_grad, a histogram of the samples, and a few idioms
# from older code: keepdims=/axis= spellings, scatter(..., reduce="add") counts, einsum with an ellipsis,
# padding modules given a 2-tuple.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def cosine_beta_schedule(timesteps, s=0.008):
    steps = timesteps + 1
    x = torch.linspace(0, timesteps, steps)
    alphas_cumprod = torch.cos(((x / timesteps) + s) / (1 + s) * torch.pi * 0.5) ** 2
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    betas = 1 - (alphas_cumprod[1:] / alphas_cumprod[:-1])
    return torch.clip(betas, 0.0001, 0.9999)


def linear_beta_schedule(timesteps):
    beta_start = 0.0001
    beta_end = 0.02
    return torch.linspace(beta_start, beta_end, timesteps)


def quadratic_beta_schedule(timesteps):
    return torch.linspace(0.0001**0.5, 0.02**0.5, timesteps) ** 2


def sigmoid_beta_schedule(timesteps):
    betas = torch.linspace(-6, 6, timesteps)
    return torch.sigmoid(betas) * (0.02 - 0.0001) + 0.0001


timesteps = 50
betas = linear_beta_schedule(timesteps=timesteps)
alphas = 1.0 - betas
alphas_cumprod = torch.cumprod(alphas, axis=0)
alphas_cumprod_prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
sqrt_recip_alphas = torch.sqrt(1.0 / alphas)
sqrt_alphas_cumprod = torch.sqrt(alphas_cumprod)
sqrt_one_minus_alphas_cumprod = torch.sqrt(1.0 - alphas_cumprod)
posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
schedules = torch.stack([cosine_beta_schedule(timesteps), quadratic_beta_schedule(timesteps),
                         sigmoid_beta_schedule(timesteps), betas])
print(schedules.sum(dim=1), posterior_variance[-3:])


def extract(a, t, x_shape):
    batch_size = t.shape[0]
    out = a.gather(-1, t.cpu())
    return out.reshape(batch_size, *((1,) * (len(x_shape) - 1))).to(t.device)


def q_sample(x_start, t, noise=None):
    if noise is None:
        noise = torch.randn_like(x_start)
    sqrt_alphas_cumprod_t = extract(sqrt_alphas_cumprod, t, x_start.shape)
    sqrt_one_minus_alphas_cumprod_t = extract(sqrt_one_minus_alphas_cumprod, t, x_start.shape)
    return sqrt_alphas_cumprod_t * x_start + sqrt_one_minus_alphas_cumprod_t * noise


class SinusoidalPositionEmbeddings(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, time):
        device = time.device
        half_dim = self.dim // 2
        embeddings = math.log(10000) / (half_dim - 1)
        embeddings = torch.exp(torch.arange(half_dim, device=device) * -embeddings)
        embeddings = time[:, None] * embeddings[None, :]
        embeddings = torch.cat((embeddings.sin(), embeddings.cos()), dim=-1)
        return embeddings


class Denoiser(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.time_mlp = nn.Sequential(SinusoidalPositionEmbeddings(dim), nn.Linear(dim, dim), nn.GELU(),
                                      nn.Linear(dim, dim))
        self.inp = nn.Linear(2, dim)
        self.blocks = nn.ModuleList([nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.SiLU())
                                     for _ in range(2)])
        self.out = nn.Linear(dim, 2)

    def forward(self, x, time):
        h = self.inp(x) + self.time_mlp(time)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


def make_moons(n):
    t = torch.rand(n) * math.pi
    upper = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)
    return torch.cat([upper, lower]) + 0.05 * torch.randn(2 * n, 2)


data = make_moons(128)
model = Denoiser()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
losses = []
for step in range(40):
    idx = torch.randint(0, data.shape[0], (64,))
    x_start = data[idx]
    t = torch.randint(0, timesteps, (64,), device=x_start.device).long()
    noise = torch.randn_like(x_start)
    x_noisy = q_sample(x_start, t, noise)
    predicted_noise = model(x_noisy, t)
    loss = F.smooth_l1_loss(noise, predicted_noise)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 10 == 0:
        print("Loss:", loss.item())


@torch.no_grad()
def p_sample(model, x, t, t_index):
    betas_t = extract(betas, t, x.shape)
    sqrt_one_minus_alphas_cumprod_t = extract(sqrt_one_minus_alphas_cumprod, t, x.shape)
    sqrt_recip_alphas_t = extract(sqrt_recip_alphas, t, x.shape)
    model_mean = sqrt_recip_alphas_t * (x - betas_t * model(x, t) / sqrt_one_minus_alphas_cumprod_t)
    if t_index == 0:
        return model_mean
    posterior_variance_t = extract(posterior_variance, t, x.shape)
    noise = torch.randn_like(x)
    return model_mean + torch.sqrt(posterior_variance_t) * noise


@torch.no_grad()
def p_sample_loop(model, shape):
    b = shape[0]
    img = torch.randn(shape)
    imgs = []
    for i in reversed(range(0, timesteps)):
        img = p_sample(model, img, torch.full((b,), i, dtype=torch.long), i)
        imgs.append(img.cpu())
    return imgs


samples = p_sample_loop(model, shape=(200, 2))
final = samples[-1]
hist, edges = torch.histogram(final[:, 0], bins=8)
print(hist.tolist(), edges)
print(final.mean(axis=0), final.std(dim=0, keepdims=True), final.amax(axis=0, keepdims=True))

# Older spellings that still appear in such code.
cell = ((final + 2) * 2).clamp(0, 7.99).long()
flat = cell[:, 0] * 8 + cell[:, 1]
counts = torch.zeros(64).scatter_(0, flat, 1.0, reduce="add")
grid = counts.view(1, 1, 8, 8)
padded = nn.ZeroPad2d((1, 2))(grid)
pair_dots = torch.einsum("...d,...d->...", final[:5], final[5:10])
gram = torch.einsum("bi,bj->ij", final, final) / final.shape[0]
results = {"schedules": schedules, "alphas_cumprod": alphas_cumprod, "losses": losses, "final": final,
           "hist": hist, "edges": edges, "counts": counts, "padded_shape": list(padded.shape),
           "pair_dots": pair_dots, "gram": gram}
