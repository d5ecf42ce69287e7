# Optical-flow building blocks as RAFT's PyTorch code writes them, plus unsupervised-flow losses: coords_grid
# (torch.meshgrid of aranges, stacked x-first, repeated over the batch), bilinear_sampler (pixel coordinates
# normalised to [-1, 1] with align_corners=True, split/cat, grid_sample), the all-pairs correlation volume
# (matmul of flattened feature maps / sqrt(dim)) and its pyramid by avg_pool2d, CorrBlock lookup with a
# (2r+1)^2 window of deltas (linspace, meshgrid), upflow8 via F.interpolate(bilinear, align_corners=True),
# RAFT's convex upsampling (F.unfold of 8 * flow with padding 1, a softmax over the 9 neighbours, permute and
# reshape), the sequence loss with exponentially decaying weights; then backward warping of the second image
# by the flow with bilinear and bicubic grid_sample (border and reflection padding), an occlusion mask from
# forward-backward consistency, the Charbonnier photometric loss and an edge-aware smoothness term, optimised
# for a small flow field directly with Adam, in float64 (set_default_dtype).
import torch
import torch.nn as nn
import torch.nn.functional as F


def coords_grid(batch, ht, wd, device="cpu"):
    coords = torch.meshgrid(torch.arange(ht, device=device), torch.arange(wd, device=device), indexing="ij")
    coords = torch.stack(coords[::-1], dim=0).float()
    return coords[None].repeat(batch, 1, 1, 1)


def bilinear_sampler(img, coords, mode="bilinear", mask=False):
    H, W = img.shape[-2:]
    xgrid, ygrid = coords.split([1, 1], dim=-1)
    xgrid = 2 * xgrid / (W - 1) - 1
    ygrid = 2 * ygrid / (H - 1) - 1
    grid = torch.cat([xgrid, ygrid], dim=-1)
    img = F.grid_sample(img, grid, align_corners=True)
    if mask:
        mask = (xgrid > -1) & (ygrid > -1) & (xgrid < 1) & (ygrid < 1)
        return img, mask.float()
    return img


def upflow8(flow, mode="bilinear"):
    new_size = (8 * flow.shape[2], 8 * flow.shape[3])
    return 8 * F.interpolate(flow, size=new_size, mode=mode, align_corners=True)


class CorrBlock:
    def __init__(self, fmap1, fmap2, num_levels=2, radius=1):
        self.num_levels = num_levels
        self.radius = radius
        self.corr_pyramid = []
        corr = CorrBlock.corr(fmap1, fmap2)
        batch, h1, w1, dim, h2, w2 = corr.shape
        corr = corr.reshape(batch * h1 * w1, dim, h2, w2)
        self.corr_pyramid.append(corr)
        for i in range(self.num_levels - 1):
            corr = F.avg_pool2d(corr, 2, stride=2)
            self.corr_pyramid.append(corr)

    def __call__(self, coords):
        r = self.radius
        coords = coords.permute(0, 2, 3, 1)
        batch, h1, w1, _ = coords.shape
        out_pyramid = []
        for i in range(self.num_levels):
            corr = self.corr_pyramid[i]
            dx = torch.linspace(-r, r, 2 * r + 1, device=coords.device)
            dy = torch.linspace(-r, r, 2 * r + 1, device=coords.device)
            delta = torch.stack(torch.meshgrid(dy, dx, indexing="ij"), axis=-1)
            centroid_lvl = coords.reshape(batch * h1 * w1, 1, 1, 2) / 2 ** i
            delta_lvl = delta.view(1, 2 * r + 1, 2 * r + 1, 2)
            coords_lvl = centroid_lvl + delta_lvl
            corr = bilinear_sampler(corr, coords_lvl)
            corr = corr.view(batch, h1, w1, -1)
            out_pyramid.append(corr)
        out = torch.cat(out_pyramid, dim=-1)
        return out.permute(0, 3, 1, 2).contiguous().float()

    @staticmethod
    def corr(fmap1, fmap2):
        batch, dim, ht, wd = fmap1.shape
        fmap1 = fmap1.view(batch, dim, ht * wd)
        fmap2 = fmap2.view(batch, dim, ht * wd)
        corr = torch.matmul(fmap1.transpose(1, 2), fmap2)
        corr = corr.view(batch, ht, wd, 1, ht, wd)
        return corr / torch.sqrt(torch.tensor(dim).float())


def upsample_flow(flow, mask):
    N, _, H, W = flow.shape
    mask = mask.view(N, 1, 9, 8, 8, H, W)
    mask = torch.softmax(mask, dim=2)
    up_flow = F.unfold(8 * flow, [3, 3], padding=1)
    up_flow = up_flow.view(N, 2, 9, 1, 1, H, W)
    up_flow = torch.sum(mask * up_flow, dim=2)
    up_flow = up_flow.permute(0, 1, 4, 2, 5, 3)
    return up_flow.reshape(N, 2, 8 * H, 8 * W)


def sequence_loss(flow_preds, flow_gt, valid, gamma=0.8, max_flow=400):
    n_predictions = len(flow_preds)
    flow_loss = 0.0
    mag = torch.sum(flow_gt ** 2, dim=1).sqrt()
    valid = (valid >= 0.5) & (mag < max_flow)
    for i in range(n_predictions):
        i_weight = gamma ** (n_predictions - i - 1)
        i_loss = (flow_preds[i] - flow_gt).abs()
        flow_loss += i_weight * (valid[:, None] * i_loss).mean()
    epe = torch.sum((flow_preds[-1] - flow_gt) ** 2, dim=1).sqrt()
    epe = epe.view(-1)[valid.view(-1)]
    metrics = {"epe": epe.mean().item(), "1px": (epe < 1).float().mean().item(),
               "3px": (epe < 3).float().mean().item()}
    return flow_loss, metrics


torch.manual_seed(0)
encoder = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, padding=1))
mask_head = nn.Conv2d(8 + 18, 64 * 9, 1)
flow_head = nn.Conv2d(8 + 18, 2, 3, padding=1)
params = list(encoder.parameters()) + list(mask_head.parameters()) + list(flow_head.parameters())
optimizer = torch.optim.AdamW(params, lr=4e-4, weight_decay=1e-5, eps=1e-8)
image1 = torch.rand(2, 3, 8, 12)
shift = 1
image2 = torch.roll(image1, shifts=shift, dims=3)
flow_gt = torch.zeros(2, 2, 32, 48)
flow_gt[:, 0] = 4.0 * shift
valid = torch.ones(2, 32, 48)
images = [F.interpolate(image1, scale_factor=4, mode="bilinear", align_corners=False), image1]
history = []
for step in range(4):
    fmap1, fmap2 = encoder(image1), encoder(image2)
    corr_fn = CorrBlock(fmap1, fmap2, num_levels=2, radius=1)
    coords0 = coords_grid(2, 4, 6)
    coords1 = coords_grid(2, 4, 6)
    preds = []
    for it in range(2):
        coords1 = coords1.detach()
        corr = corr_fn(coords1)
        feat = torch.cat([fmap1, corr], dim=1)
        coords1 = coords1 + flow_head(feat)
        up_mask = .25 * mask_head(feat)
        preds.append(upsample_flow(coords1 - coords0, up_mask))
    preds.append(upflow8(coords1 - coords0))
    loss, metrics = sequence_loss(preds, flow_gt, valid)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    history.append([round(loss.item(), 6), round(metrics["epe"], 5), metrics["1px"]])
print("raft", history)
print("corr pyramid", [tuple(c.shape) for c in corr_fn.corr_pyramid])


def warp(x, flo, mode="bilinear", padding_mode="zeros"):
    B, C, H, W = x.size()
    grid = coords_grid(B, H, W).to(x)
    vgrid = grid + flo
    vgrid[:, 0, :, :] = 2.0 * vgrid[:, 0, :, :].clone() / max(W - 1, 1) - 1.0
    vgrid[:, 1, :, :] = 2.0 * vgrid[:, 1, :, :].clone() / max(H - 1, 1) - 1.0
    vgrid = vgrid.permute(0, 2, 3, 1)
    output = F.grid_sample(x, vgrid, mode=mode, padding_mode=padding_mode, align_corners=True)
    mask = torch.ones(x.size(), dtype=x.dtype)
    mask = F.grid_sample(mask, vgrid, align_corners=True)
    mask = (mask >= 0.9999).to(x.dtype)
    return output * mask, mask


def charbonnier(x, alpha=0.45, eps=1e-3):
    return torch.pow(x ** 2 + eps ** 2, alpha)


def smoothness(flow, image, edge_weight=10.0):
    img_dx = image[:, :, :, 1:] - image[:, :, :, :-1]
    img_dy = image[:, :, 1:, :] - image[:, :, :-1, :]
    w_x = torch.exp(-edge_weight * img_dx.abs().mean(1, keepdim=True))
    w_y = torch.exp(-edge_weight * img_dy.abs().mean(1, keepdim=True))
    flow_dx = flow[:, :, :, 1:] - flow[:, :, :, :-1]
    flow_dy = flow[:, :, 1:, :] - flow[:, :, :-1, :]
    return (w_x * charbonnier(flow_dx)).mean() + (w_y * charbonnier(flow_dy)).mean()


torch.manual_seed(1)
torch.set_default_dtype(torch.float64)  # the variational refinement in double precision
yy, xx = torch.meshgrid(torch.linspace(-1, 1, 10), torch.linspace(-1, 1, 14), indexing="ij")
frame1 = torch.stack([torch.sin(3 * xx + 2 * yy), torch.cos(2 * xx - yy), xx * yy])[None]
true_flow = torch.stack([0.6 * torch.ones_like(xx), -0.4 * torch.ones_like(yy)])[None]
frame2, _ = warp(frame1, -true_flow, mode="bicubic", padding_mode="border")
flow = torch.zeros(1, 2, 10, 14, requires_grad=True)
opt = torch.optim.Adam([flow], lr=0.05)
photo_hist = []
for step in range(15):
    warped, mask = warp(frame2, flow, mode="bicubic", padding_mode="reflection")
    back, _ = warp(flow.detach(), -flow.detach())
    occlusion = ((flow.detach() + back) ** 2).sum(1, keepdim=True) < 0.01 * (flow.detach() ** 2).sum(1, True) + 0.5
    photo = (charbonnier(warped - frame1) * mask * occlusion).sum() / (mask * occlusion).sum().clamp(min=1)
    loss = photo + 0.1 * smoothness(flow, frame1)
    opt.zero_grad()
    loss.backward()
    opt.step()
    photo_hist.append(round(loss.item(), 6))
print("unsupervised", photo_hist[0], photo_hist[-1])
print("mean flow", [round(v, 4) for v in flow.detach().mean(dim=(0, 2, 3)).tolist()])
bilinear, _ = warp(frame1, true_flow, mode="bilinear", padding_mode="border")
bicubic, _ = warp(frame1, true_flow, mode="bicubic", padding_mode="border")
results = {"raft": history, "flow_head": flow_head.weight.detach()[:, :4], "photo": photo_hist,
           "flow": flow.detach(), "frame2": frame2, "bilinear": bilinear, "bicubic": bicubic,
           "flow_grad": flow.grad}
