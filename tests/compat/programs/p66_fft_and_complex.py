# Complex numbers and torch.fft as people use them: complex tensors printed and taken apart,
# an FFT low-pass filter whose frequency response is fitted by gradient descent, and a
# learnable spectral convolution as in Fourier Neural Operators (rfft, complex weights made
# from real Parameters with torch.view_as_complex, einsum over the kept modes, irfft), trained
# on a smoothing task, a complex-valued nn.Linear fitted with Adam, and a spectrogram (stft,
# istft).  Data and initial weights come from NumPy.
import math

import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(66)
results = {}

# 1. Complex tensors: printing, parts, polar form, the gradient convention.
z = torch.tensor([1 + 2j, -0.5 + 0.25j, 3 - 1j])
print(z)
print(z.real, z.imag, z.abs(), z.angle())
print(torch.view_as_real(z))
print(torch.polar(z.abs(), z.angle()))
w = torch.tensor([1 + 1j, 2 - 1j, -1j], dtype=torch.complex128, requires_grad=True)
loss = (w.abs() ** 2).sum() + (w * w.conj()).real.sum() + (w.exp() * (1 - 2j)).imag.sum()
loss.backward()
print(w.grad)
results["complex"] = [z, w.grad, torch.complex(z.real, -z.imag), z.conj().resolve_conj()]

# 2. A low-pass filter learned in the frequency domain.
n = 128
t = torch.linspace(0, 1, n, dtype=torch.float64)
clean = torch.sin(2 * math.pi * 3 * t) + 0.5 * torch.sin(2 * math.pi * 7 * t)
noisy = clean + torch.tensor(rng.normal(scale=0.4, size=n))
freqs = torch.fft.rfftfreq(n, d=1.0 / n)
response = nn.Parameter(torch.full((n // 2 + 1,), 0.5, dtype=torch.float64))
optimizer = torch.optim.Adam([response], lr=0.05)
for step in range(80):
    optimizer.zero_grad()
    filtered = torch.fft.irfft(torch.fft.rfft(noisy) * response, n=n)
    loss = ((filtered - clean) ** 2).mean()
    loss.backward()
    optimizer.step()
    if step % 20 == 0:
        print(f"filter step {step}: loss {loss.item():.8f}")
spectrum = torch.fft.fft(filtered.detach(), norm="ortho")
print("dominant bins:", spectrum.abs()[: n // 2].topk(2).indices.tolist())
results["filter"] = [response.detach(), freqs, spectrum, torch.fft.fftshift(freqs)]


# 3. A spectral convolution layer (Fourier Neural Operator style).
class SpectralConv1d(nn.Module):
    def __init__(self, channels_in, channels_out, modes):
        super().__init__()
        self.modes = modes
        scale = 1 / (channels_in * channels_out)
        weights = scale * rng.standard_normal((channels_in, channels_out, modes, 2))
        self.weights = nn.Parameter(torch.tensor(weights, dtype=torch.float32))

    def forward(self, x):
        x_ft = torch.fft.rfft(x)
        out_ft = torch.zeros(x.shape[0], self.weights.shape[1], x.shape[-1] // 2 + 1, dtype=torch.cfloat)
        out_ft[:, :, : self.modes] = torch.einsum(
            "bix,iox->box", x_ft[:, :, : self.modes], torch.view_as_complex(self.weights))
        return torch.fft.irfft(out_ft, n=x.shape[-1])


class TinyFNO(nn.Module):
    def __init__(self):
        super().__init__()
        self.lift = nn.Conv1d(1, 4, 1)
        self.spectral = SpectralConv1d(4, 4, modes=6)
        self.skip = nn.Conv1d(4, 4, 1)
        self.project = nn.Conv1d(4, 1, 1)

    def forward(self, x):
        h = self.lift(x)
        h = torch.nn.functional.gelu(self.spectral(h) + self.skip(h))
        return self.project(h)


model = TinyFNO()
with torch.no_grad():
    for parameter in [p for name, p in model.named_parameters() if not name.startswith("spectral")]:
        parameter.copy_(torch.tensor(rng.uniform(-0.5, 0.5, size=tuple(parameter.shape)), dtype=torch.float32))
signals = torch.tensor(rng.normal(size=(16, 1, 32)), dtype=torch.float32)
kernel = torch.tensor([0.25, 0.5, 0.25])
targets = torch.nn.functional.conv1d(signals, kernel.view(1, 1, 3), padding=1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(30):
    optimizer.zero_grad()
    loss = ((model(signals) - targets) ** 2).mean()
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(f"fno step {step}: loss {loss.item():.6f}")
print(f"fno final loss {loss.item():.6f}")
results["fno"] = [model.spectral.weights.detach(), model.spectral.weights.grad, model(signals[:2]).detach()]
results["fno_dtype"] = torch.view_as_complex(model.spectral.weights.detach()).dtype

# 4. A complex-valued linear layer fitted with Adam (complex parameters).
layer = nn.Linear(4, 3, dtype=torch.cfloat)
with torch.no_grad():
    for parameter in layer.parameters():
        shape = tuple(parameter.shape)
        parameter.copy_(torch.tensor(rng.normal(size=shape) + 1j * rng.normal(size=shape), dtype=torch.cfloat))
inputs = torch.tensor(rng.normal(size=(32, 4)) + 1j * rng.normal(size=(32, 4)), dtype=torch.cfloat)
true_map = torch.tensor(rng.normal(size=(4, 3)) + 1j * rng.normal(size=(4, 3)), dtype=torch.cfloat)
outputs = inputs @ true_map
optimizer = torch.optim.Adam(layer.parameters(), lr=0.05)
for step in range(40):
    optimizer.zero_grad()
    loss = (layer(inputs) - outputs).abs().pow(2).mean()
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(f"complex linear step {step}: loss {loss.item():.6f}")
results["complex_linear"] = [layer.weight.detach(), layer.bias.grad, loss.detach()]

# 5. A spectrogram: stft magnitudes with a Hann window, a gradient through them, and istft back.
signal = torch.tensor(rng.normal(size=(2, 256)), dtype=torch.float64, requires_grad=True)
window = torch.hann_window(64, dtype=torch.float64)
spectrogram = torch.stft(signal, 64, hop_length=16, window=window, return_complex=True)
power = spectrogram.abs().pow(2)
print("spectrogram", tuple(spectrogram.shape), spectrogram.dtype)
(power[:, 4:12].sum() / power.sum()).backward()
restored = torch.istft(spectrogram.detach(), 64, hop_length=16, window=window, length=256)
print("istft restores the signal:", torch.allclose(restored, signal.detach(), atol=1e-12))
results["stft"] = [power.detach(), signal.grad, restored]
