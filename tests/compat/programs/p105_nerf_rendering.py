# NeRF's rendering pipeline as nerf-pytorch writes it, on a tiny synthetic scene: get_rays from a pinhole
# camera (torch.meshgrid with indexing="xy", a c2w matrix applied by broadcasting and sum), the frequency
# positional encoding (an Embedder built from a list of lambdas over sin/cos and 2^linspace), stratified
# sampling along rays with perturbation (torch.rand, torch.cat of mids), raw2outputs (distances with a 1e10
# tail, alpha = 1 - exp(-relu(sigma) * dist), transmittance via torch.cumprod of a torch.cat'ed ones column
# [..., :-1], weights, rgb/depth/disparity/accumulation maps with torch.max and torch.ones_like), hierarchical
# sampling from the coarse weights (sample_pdf: pdf normalisation, cumsum, torch.searchsorted with right=True,
# torch.gather on an expanded matrix, torch.where for a zero denominator), sorting the merged samples, and a
# few Adam steps of the coarse and fine MLPs on the rendered image loss (img2mse, mse2psnr).
import torch
import torch.nn as nn
import torch.nn.functional as F

img2mse = lambda x, y: torch.mean((x - y) ** 2)
mse2psnr = lambda x: -10. * torch.log(x) / torch.log(torch.Tensor([10.]))


class Embedder:
    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.create_embedding_fn()

    def create_embedding_fn(self):
        embed_fns = []
        d = self.kwargs["input_dims"]
        out_dim = 0
        if self.kwargs["include_input"]:
            embed_fns.append(lambda x: x)
            out_dim += d
        max_freq = self.kwargs["max_freq_log2"]
        N_freqs = self.kwargs["num_freqs"]
        if self.kwargs["log_sampling"]:
            freq_bands = 2. ** torch.linspace(0., max_freq, steps=N_freqs)
        else:
            freq_bands = torch.linspace(2. ** 0., 2. ** max_freq, steps=N_freqs)
        for freq in freq_bands:
            for p_fn in self.kwargs["periodic_fns"]:
                embed_fns.append(lambda x, p_fn=p_fn, freq=freq: p_fn(x * freq))
                out_dim += d
        self.embed_fns = embed_fns
        self.out_dim = out_dim

    def embed(self, inputs):
        return torch.cat([fn(inputs) for fn in self.embed_fns], -1)


def get_embedder(multires):
    embed_kwargs = {"include_input": True, "input_dims": 3, "max_freq_log2": multires - 1, "num_freqs": multires,
                    "log_sampling": True, "periodic_fns": [torch.sin, torch.cos]}
    embedder_obj = Embedder(**embed_kwargs)
    return lambda x, eo=embedder_obj: eo.embed(x), embedder_obj.out_dim


class NeRF(nn.Module):
    def __init__(self, D=3, W=32, input_ch=3, input_ch_views=3, skips=[1]):
        super(NeRF, self).__init__()
        self.skips = skips
        self.pts_linears = nn.ModuleList(
            [nn.Linear(input_ch, W)] + [nn.Linear(W, W) if i not in self.skips else nn.Linear(W + input_ch, W)
                                        for i in range(D - 1)])
        self.views_linears = nn.ModuleList([nn.Linear(input_ch_views + W, W // 2)])
        self.feature_linear = nn.Linear(W, W)
        self.alpha_linear = nn.Linear(W, 1)
        self.rgb_linear = nn.Linear(W // 2, 3)
        self.input_ch, self.input_ch_views = input_ch, input_ch_views

    def forward(self, x):
        input_pts, input_views = torch.split(x, [self.input_ch, self.input_ch_views], dim=-1)
        h = input_pts
        for i, l in enumerate(self.pts_linears):
            h = F.relu(self.pts_linears[i](h))
            if i in self.skips:
                h = torch.cat([input_pts, h], -1)
        alpha = self.alpha_linear(h)
        feature = self.feature_linear(h)
        h = torch.cat([feature, input_views], -1)
        for i, l in enumerate(self.views_linears):
            h = F.relu(self.views_linears[i](h))
        rgb = self.rgb_linear(h)
        return torch.cat([rgb, alpha], -1)


def get_rays(H, W, K, c2w):
    i, j = torch.meshgrid(torch.linspace(0, W - 1, W), torch.linspace(0, H - 1, H), indexing="xy")
    dirs = torch.stack([(i - K[0][2]) / K[0][0], -(j - K[1][2]) / K[1][1], -torch.ones_like(i)], -1)
    rays_d = torch.sum(dirs[..., None, :] * c2w[:3, :3], -1)
    rays_o = c2w[:3, -1].expand(rays_d.shape)
    return rays_o, rays_d


def raw2outputs(raw, z_vals, rays_d, raw_noise_std=0, white_bkgd=False):
    raw2alpha = lambda raw, dists, act_fn=F.relu: 1. - torch.exp(-act_fn(raw) * dists)
    dists = z_vals[..., 1:] - z_vals[..., :-1]
    dists = torch.cat([dists, torch.Tensor([1e10]).expand(dists[..., :1].shape)], -1)
    dists = dists * torch.norm(rays_d[..., None, :], dim=-1)
    rgb = torch.sigmoid(raw[..., :3])
    noise = 0.
    if raw_noise_std > 0.:
        noise = torch.randn(raw[..., 3].shape) * raw_noise_std
    alpha = raw2alpha(raw[..., 3] + noise, dists)
    weights = alpha * torch.cumprod(torch.cat([torch.ones((alpha.shape[0], 1)), 1. - alpha + 1e-10], -1), -1)[:, :-1]
    rgb_map = torch.sum(weights[..., None] * rgb, -2)
    depth_map = torch.sum(weights * z_vals, -1)
    disp_map = 1. / torch.max(1e-10 * torch.ones_like(depth_map), depth_map / torch.sum(weights, -1))
    acc_map = torch.sum(weights, -1)
    if white_bkgd:
        rgb_map = rgb_map + (1. - acc_map[..., None])
    return rgb_map, disp_map, acc_map, weights, depth_map


def sample_pdf(bins, weights, N_samples, det=False):
    weights = weights + 1e-5
    pdf = weights / torch.sum(weights, -1, keepdim=True)
    cdf = torch.cumsum(pdf, -1)
    cdf = torch.cat([torch.zeros_like(cdf[..., :1]), cdf], -1)
    if det:
        u = torch.linspace(0., 1., steps=N_samples)
        u = u.expand(list(cdf.shape[:-1]) + [N_samples])
    else:
        u = torch.rand(list(cdf.shape[:-1]) + [N_samples])
    u = u.contiguous()
    inds = torch.searchsorted(cdf, u, right=True)
    below = torch.max(torch.zeros_like(inds - 1), inds - 1)
    above = torch.min((cdf.shape[-1] - 1) * torch.ones_like(inds), inds)
    inds_g = torch.stack([below, above], -1)
    matched_shape = [inds_g.shape[0], inds_g.shape[1], cdf.shape[-1]]
    cdf_g = torch.gather(cdf.unsqueeze(1).expand(matched_shape), 2, inds_g)
    bins_g = torch.gather(bins.unsqueeze(1).expand(matched_shape), 2, inds_g)
    denom = (cdf_g[..., 1] - cdf_g[..., 0])
    denom = torch.where(denom < 1e-5, torch.ones_like(denom), denom)
    t = (u - cdf_g[..., 0]) / denom
    samples = bins_g[..., 0] + t * (bins_g[..., 1] - bins_g[..., 0])
    return samples


def render_rays(ray_batch, network_fn, network_fine, embed_fn, embeddirs_fn, N_samples, N_importance,
                perturb=1., raw_noise_std=0.):
    N_rays = ray_batch.shape[0]
    rays_o, rays_d = ray_batch[:, 0:3], ray_batch[:, 3:6]
    viewdirs = ray_batch[:, -3:]
    bounds = torch.reshape(ray_batch[..., 6:8], [-1, 1, 2])
    near, far = bounds[..., 0], bounds[..., 1]
    t_vals = torch.linspace(0., 1., steps=N_samples)
    z_vals = near * (1. - t_vals) + far * (t_vals)
    z_vals = z_vals.expand([N_rays, N_samples])
    if perturb > 0.:
        mids = .5 * (z_vals[..., 1:] + z_vals[..., :-1])
        upper = torch.cat([mids, z_vals[..., -1:]], -1)
        lower = torch.cat([z_vals[..., :1], mids], -1)
        t_rand = torch.rand(z_vals.shape)
        z_vals = lower + (upper - lower) * t_rand

    def run(net, z):
        pts = rays_o[..., None, :] + rays_d[..., None, :] * z[..., :, None]
        dirs = viewdirs[:, None].expand(pts.shape)
        inputs = torch.cat([embed_fn(pts.reshape(-1, 3)), embeddirs_fn(dirs.reshape(-1, 3))], -1)
        return net(inputs).reshape(list(pts.shape[:-1]) + [4])

    raw = run(network_fn, z_vals)
    rgb_map, disp_map, acc_map, weights, depth_map = raw2outputs(raw, z_vals, rays_d, raw_noise_std)
    rgb_map_0 = rgb_map
    z_vals_mid = .5 * (z_vals[..., 1:] + z_vals[..., :-1])
    z_samples = sample_pdf(z_vals_mid, weights[..., 1:-1], N_importance, det=(perturb == 0.))
    z_samples = z_samples.detach()
    z_vals, _ = torch.sort(torch.cat([z_vals, z_samples], -1), -1)
    raw = run(network_fine, z_vals)
    rgb_map, disp_map, acc_map, weights, depth_map = raw2outputs(raw, z_vals, rays_d, raw_noise_std)
    return {"rgb_map": rgb_map, "disp_map": disp_map, "acc_map": acc_map, "rgb0": rgb_map_0, "z_vals": z_vals,
            "depth_map": depth_map}


torch.manual_seed(0)
H, W, focal = 4, 5, 6.0
K = torch.Tensor([[focal, 0, 0.5 * W], [0, focal, 0.5 * H], [0, 0, 1]])
c2w = torch.Tensor([[1, 0, 0, 0.1], [0, 0.8, -0.6, -1.2], [0, 0.6, 0.8, 1.6]])
rays_o, rays_d = get_rays(H, W, K, c2w)
viewdirs = rays_d / torch.norm(rays_d, dim=-1, keepdim=True)
near, far = 1.0 * torch.ones_like(rays_d[..., :1]), 4.0 * torch.ones_like(rays_d[..., :1])
rays = torch.cat([rays_o, rays_d, near, far, viewdirs], -1).reshape(-1, 11)
target = torch.rand(H * W, 3)

embed_fn, input_ch = get_embedder(4)
embeddirs_fn, input_ch_views = get_embedder(2)
coarse = NeRF(input_ch=input_ch, input_ch_views=input_ch_views)
fine = NeRF(input_ch=input_ch, input_ch_views=input_ch_views)
grad_vars = list(coarse.parameters()) + list(fine.parameters())
optimizer = torch.optim.Adam(params=grad_vars, lr=5e-3, betas=(0.9, 0.999))
print("embedding dims", input_ch, input_ch_views)
history = []
for i in range(6):
    out = render_rays(rays, coarse, fine, embed_fn, embeddirs_fn, N_samples=8, N_importance=8, raw_noise_std=0.5)
    img_loss = img2mse(out["rgb_map"], target)
    loss = img_loss + img2mse(out["rgb0"], target)
    psnr = mse2psnr(img_loss)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    decay_rate, decay_steps = 0.1, 250 * 1000
    new_lrate = 5e-3 * (decay_rate ** ((i + 1) / decay_steps))
    for param_group in optimizer.param_groups:
        param_group["lr"] = new_lrate
    history.append([round(loss.item(), 6), round(psnr.item(), 5)])
print(history)
with torch.no_grad():
    test = render_rays(rays, coarse, fine, embed_fn, embeddirs_fn, N_samples=8, N_importance=8, perturb=0.)
print("depth range", round(test["depth_map"].min().item(), 5), round(test["depth_map"].max().item(), 5))
print("z sorted", bool((test["z_vals"][:, 1:] >= test["z_vals"][:, :-1]).all()))
results = {"history": history, "rays_d": rays_d, "rgb": test["rgb_map"], "disp": test["disp_map"],
           "acc": test["acc_map"], "z_vals": test["z_vals"], "alpha_w": fine.alpha_linear.weight.detach()}
