# Capsule networks (Sabour et al., "Dynamic Routing Between Capsules") as the popular PyTorch ports write them:
# PrimaryCaps from a Conv2d reshaped into 8-D capsules, the squash non-linearity, DigitCaps with a W of shape
# (1, in_caps, out_caps, out_dim, in_dim) applied by torch.matmul with broadcasting over the batch, dynamic
# routing by agreement (softmax over the routes, coupling by einsum/sum, b_ij updated with the agreement of
# detached predictions), the margin loss with F.relu(0.9 - ||v||)^2, masking the winning capsule with
# torch.eye indexing for the reconstruction decoder; then a Pointer Network (Vinyals et al.) that sorts numbers:
# an LSTM encoder, an LSTMCell decoder, additive attention whose logits are masked_fill'ed where a position was
# already chosen, argmax decoding, teacher forcing with gather on the encoder outputs, and NLL over the pointers.
import torch
import torch.nn as nn
import torch.nn.functional as F


def squash(s, dim=-1):
    squared_norm = (s ** 2).sum(dim=dim, keepdim=True)
    return squared_norm / (1 + squared_norm) * s / (torch.sqrt(squared_norm) + 1e-8)


class PrimaryCaps(nn.Module):
    def __init__(self, in_channels=8, num_caps=4, caps_dim=4, kernel_size=3, stride=2):
        super().__init__()
        self.caps_dim = caps_dim
        self.conv = nn.Conv2d(in_channels, num_caps * caps_dim, kernel_size, stride)

    def forward(self, x):
        out = self.conv(x)
        batch_size = out.size(0)
        out = out.view(batch_size, -1, self.caps_dim)
        return squash(out)


class DigitCaps(nn.Module):
    def __init__(self, in_caps, in_dim, out_caps, out_dim, num_routing):
        super().__init__()
        self.in_caps, self.out_caps, self.num_routing = in_caps, out_caps, num_routing
        self.W = nn.Parameter(0.01 * torch.randn(1, in_caps, out_caps, out_dim, in_dim))

    def forward(self, x):
        batch_size = x.size(0)
        x = x.unsqueeze(2).unsqueeze(4)                      # (B, in_caps, 1, in_dim, 1)
        u_hat = torch.matmul(self.W, x).squeeze(-1)          # (B, in_caps, out_caps, out_dim)
        temp_u_hat = u_hat.detach()
        b = torch.zeros(batch_size, self.in_caps, self.out_caps, 1, device=x.device)
        for route_iter in range(self.num_routing - 1):
            c = b.softmax(dim=2)
            s = (c * temp_u_hat).sum(dim=1)
            v = squash(s)
            uv = torch.matmul(temp_u_hat.unsqueeze(-2), v[:, None, :, :, None]).squeeze(-1)  # (B, in, out, 1)
            b = b + uv
        c = b.softmax(dim=2)
        s = torch.einsum("bioc,bio->boc", u_hat, c.squeeze(-1))
        return squash(s), c


class CapsNet(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.primary = PrimaryCaps()
        self.digit = DigitCaps(in_caps=4 * 2 * 2, in_dim=4, out_caps=classes, out_dim=6, num_routing=3)
        self.decoder = nn.Sequential(nn.Linear(6 * classes, 32), nn.ReLU(inplace=True), nn.Linear(32, 64),
                                     nn.Sigmoid())
        self.classes = classes

    def forward(self, x, y=None):
        x = F.relu(self.conv(x))
        x = self.primary(x)
        v, c = self.digit(x)
        lengths = v.norm(dim=-1)
        if y is None:
            _, y = lengths.max(dim=1)
        mask = torch.eye(self.classes).index_select(dim=0, index=y)
        reconstruction = self.decoder((v * mask[:, :, None]).view(x.size(0), -1))
        return lengths, reconstruction.view(-1, 1, 8, 8), c


def margin_loss(lengths, labels, m_plus=0.9, m_minus=0.1, lam=0.5):
    t = F.one_hot(labels, lengths.size(1)).float()
    left = F.relu(m_plus - lengths) ** 2
    right = F.relu(lengths - m_minus) ** 2
    return (t * left + lam * (1.0 - t) * right).sum(dim=1).mean()


torch.manual_seed(0)
images = torch.rand(12, 1, 8, 8)
labels = torch.arange(12) % 3
images[labels == 0, :, :4] += 1.0
images[labels == 1, :, :, :4] += 1.0
net = CapsNet()
opt = torch.optim.Adam(net.parameters(), lr=5e-3)
caps_hist = []
for step in range(8):
    lengths, recon, coupling = net(images, labels)
    loss = margin_loss(lengths, labels) + 0.0005 * F.mse_loss(recon, images.clamp(0, 1), reduction="sum")
    opt.zero_grad()
    loss.backward()
    opt.step()
    caps_hist.append(round(loss.item(), 6))
with torch.no_grad():
    lengths, recon, coupling = net(images)
print("capsnet", caps_hist, (lengths.argmax(1) == labels).float().mean().item())
print("coupling sums to one over routes", torch.allclose(coupling.sum(2), torch.ones(12, 16, 1)))


class PointerNet(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.hidden = hidden
        self.embed = nn.Linear(1, hidden)
        self.encoder = nn.LSTM(hidden, hidden, batch_first=True)
        self.decoder = nn.LSTMCell(hidden, hidden)
        self.W1 = nn.Linear(hidden, hidden, bias=False)
        self.W2 = nn.Linear(hidden, hidden, bias=False)
        self.vt = nn.Linear(hidden, 1, bias=False)
        self.start = nn.Parameter(torch.zeros(hidden))

    def forward(self, x, targets=None):
        batch, n = x.shape
        emb = self.embed(x.unsqueeze(-1))
        enc, (h, c) = self.encoder(emb)
        h, c = h.squeeze(0), c.squeeze(0)
        dec_in = self.start.unsqueeze(0).expand(batch, -1)
        mask = torch.zeros(batch, n, dtype=torch.bool)
        log_probs, pointers = [], []
        enc_proj = self.W1(enc)
        for i in range(n):
            h, c = self.decoder(dec_in, (h, c))
            u = self.vt(torch.tanh(enc_proj + self.W2(h).unsqueeze(1))).squeeze(-1)
            u = u.masked_fill(mask, float("-inf"))
            log_p = F.log_softmax(u, dim=1)
            idx = log_p.argmax(dim=1) if targets is None else targets[:, i]
            log_probs.append(log_p)
            pointers.append(idx)
            mask = mask.scatter(1, idx.unsqueeze(1), True)
            dec_in = emb.gather(1, idx.view(batch, 1, 1).expand(-1, 1, self.hidden)).squeeze(1)
        return torch.stack(log_probs, 1), torch.stack(pointers, 1)


torch.manual_seed(1)
ptr = PointerNet()
opt = torch.optim.Adam(ptr.parameters(), lr=1e-2)
ptr_hist = []
for step in range(15):
    x = torch.rand(16, 5)
    targets = x.argsort(dim=1)
    log_probs, _ = ptr(x, targets)
    loss = F.nll_loss(log_probs.reshape(-1, 5), targets.reshape(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(ptr.parameters(), 2.0)
    opt.step()
    ptr_hist.append(round(loss.item(), 6))
x_test = torch.rand(4, 5)
with torch.no_grad():
    log_probs, pointers = ptr(x_test)
print("pointer", ptr_hist[0], ptr_hist[-1])
print(pointers.tolist(), x_test.argsort(1).tolist())
print("each position once", bool((pointers.sort(1).values == torch.arange(5)).all()))
results = {"caps": caps_hist, "lengths": lengths, "recon": recon, "coupling": coupling,
           "W": net.digit.W.detach()[0, :2], "ptr": ptr_hist, "pointers": pointers, "log_probs": log_probs,
           "vt": ptr.vt.weight.detach()}
