# Audio features the way torchaudio-free training scripts compute them, and the model surgery fine-tuning
# scripts do: a log-mel spectrogram (torch.stft with a torch.signal.windows.hann window, the power spectrum,
# a triangular mel filterbank built as torchaudio's melscale_fbanks builds it: HTK mel scale, linspace of mel
# points, slopes and clamp(min=0), in float64 and cast), amplitude_to_DB with top_db clamping, per-utterance normalisation,
# SpecAugment's time and frequency masks (positions from torch.rand under the seed, masked_fill with an arange
# comparison), a Gaussian-smoothed onset envelope (conv1d with signal.windows.gaussian), a tiny CNN trained on
# two synthetic chirp classes; then fine-tuning surgery: the classifier head swapped with set_submodule, the
# backbone frozen via requires_grad_, a new optimizer over the trainable parameters, and a sensitivity check of
# the logits to the input spectrogram with torch.func.linearize (a directional derivative, checked against a
# finite difference and torch.func.jvp).
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.signal import windows


def hz_to_mel(freq):
    return 2595.0 * math.log10(1.0 + (freq / 700.0))


def mel_to_hz(mels):
    return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)


def melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, dtype=torch.float64):
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs, dtype=dtype)
    m_min, m_max = hz_to_mel(f_min), hz_to_mel(f_max)
    m_pts = torch.linspace(m_min, m_max, n_mels + 2, dtype=dtype)
    f_pts = mel_to_hz(m_pts)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)
    down_slopes = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up_slopes = slopes[:, 2:] / f_diff[1:]
    fb = torch.max(torch.zeros(1, dtype=dtype), torch.min(down_slopes, up_slopes))
    return fb


def amplitude_to_DB(x, multiplier=10.0, amin=1e-10, db_multiplier=0.0, top_db=80.0):
    x_db = multiplier * torch.log10(torch.clamp(x, min=amin))
    x_db -= multiplier * db_multiplier
    if top_db is not None:
        x_db = x_db.max(x_db.new_tensor(x_db.amax(dim=(-2, -1)) - top_db).view(-1, 1, 1))
    return x_db


class LogMel(nn.Module):
    def __init__(self, sample_rate=800, n_fft=64, hop_length=16, n_mels=12):
        super().__init__()
        self.n_fft, self.hop_length = n_fft, hop_length
        self.register_buffer("window", windows.hann(n_fft, sym=False))
        # (built in double, as librosa's filters are, then cast: the slopes subtract nearby frequencies)
        self.register_buffer("fb", melscale_fbanks(n_fft // 2 + 1, 0.0, sample_rate / 2, n_mels, sample_rate).float())

    def forward(self, wav):
        spec = torch.stft(wav, self.n_fft, hop_length=self.hop_length, window=self.window, center=True,
                          pad_mode="reflect", return_complex=True)
        power = spec.abs().pow(2.0)
        mel = torch.matmul(power.transpose(-1, -2), self.fb).transpose(-1, -2)
        db = amplitude_to_DB(mel)
        return (db - db.mean(dim=(-2, -1), keepdim=True)) / (db.std(dim=(-2, -1), keepdim=True) + 1e-5)


def spec_augment(spec, max_t=4, max_f=3):
    b, n_mels, n_frames = spec.shape
    t_width = (torch.rand(b) * max_t).long()
    t_start = (torch.rand(b) * (n_frames - t_width)).long()
    f_width = (torch.rand(b) * max_f).long()
    f_start = (torch.rand(b) * (n_mels - f_width)).long()
    frames = torch.arange(n_frames).view(1, 1, -1)
    mels = torch.arange(n_mels).view(1, -1, 1)
    t_mask = (frames >= t_start.view(-1, 1, 1)) & (frames < (t_start + t_width).view(-1, 1, 1))
    f_mask = (mels >= f_start.view(-1, 1, 1)) & (mels < (f_start + f_width).view(-1, 1, 1))
    return spec.masked_fill(t_mask | f_mask, 0.0)


def chirps(n, rising, sample_rate=800, seconds=0.5):
    t = torch.arange(int(sample_rate * seconds)) / sample_rate
    f0 = 60 + 40 * torch.rand(n, 1)
    k = (300.0 if rising else -100.0) * (1 + 0.2 * torch.rand(n, 1))
    phase = 2 * math.pi * (f0 * t + 0.5 * k * t ** 2)
    return torch.sin(phase) * windows.cosine(t.numel()) + 0.05 * torch.randn(n, t.numel())


torch.manual_seed(0)
wavs = torch.cat([chirps(8, True), chirps(8, False)])
labels = torch.cat([torch.zeros(8), torch.ones(8)]).long()
features = LogMel()
with torch.no_grad():
    specs = features(wavs)
print("spec", tuple(specs.shape), round(specs[0, :3, :3].sum().item(), 5))
print("fbank", tuple(features.fb.shape), round(features.fb.sum().item(), 5), features.fb.argmax(0).tolist())

envelope = wavs.abs().unsqueeze(1)
kernel = windows.gaussian(9, std=2.0, dtype=torch.float32)
kernel = (kernel / kernel.sum()).view(1, 1, -1)
smooth = F.conv1d(envelope, kernel, padding=4)
print("envelope", tuple(smooth.shape), round(smooth.mean().item(), 6))
print("windows", [round(w, 6) for w in windows.kaiser(5, beta=6.0).tolist()],
      [round(w, 6) for w in windows.blackman(5, sym=False).tolist()])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
                                      nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(8, 2))

    def forward(self, x):
        return self.head(self.backbone(x.unsqueeze(1)))


model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
history = []
for epoch in range(6):
    model.train()
    batch = spec_augment(specs)
    loss = F.cross_entropy(model(batch), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history.append(round(loss.item(), 6))
print("train", history)

# fine-tuning: a three-class head, the backbone frozen
model.set_submodule("head.1", nn.Linear(8, 3))
model.backbone.requires_grad_(False)
trainable = [p for p in model.parameters() if p.requires_grad]
print("trainable", [n for n, p in model.named_parameters() if p.requires_grad], sum(p.numel() for p in trainable))
new_labels = torch.arange(16) % 3
optimizer = torch.optim.SGD(trainable, lr=0.1, momentum=0.9)
model.eval()
tune = []
for step in range(5):
    loss = F.cross_entropy(model(specs), new_labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    tune.append(round(loss.item(), 6))
print("tune", tune, model.backbone[0].weight.grad is None)

x0 = specs[:2].contiguous()
direction = torch.randn_like(x0)
logits, jvp_fn = torch.func.linearize(model, x0)
slope = jvp_fn(direction)
eps = 1e-3
with torch.no_grad():
    finite = (model(x0 + eps * direction) - model(x0 - eps * direction)) / (2 * eps)
_, slope_jvp = torch.func.jvp(model, (x0,), (direction,))
print("linearize vs finite difference", torch.allclose(slope, finite, atol=1e-2),
      torch.allclose(slope, slope_jvp, atol=1e-6))
results = {"specs": specs, "fb": features.fb, "smooth": smooth, "history": history, "tune": tune,
           "head": model.head[1].weight.detach(), "logits": logits.detach(), "slope": slope.detach(),
           "kaiser": windows.kaiser(7, beta=4.0, dtype=torch.float64), "nuttall": windows.nuttall(6)}
