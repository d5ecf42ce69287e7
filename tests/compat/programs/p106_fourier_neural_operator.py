# The Fourier Neural Operator (Li et al.) as the original fourier_2d.py writes it: SpectralConv2d whose complex
# weights are nn.Parameter(scale * torch.rand(..., dtype=torch.cfloat)), compl_mul2d by einsum, rfft2 / irfft2
# with the kept corner modes written into a zeros tensor of dtype cfloat, FNO2d with get_grid (linspace, reshape,
# repeat) concatenated to the input, 1x1 Conv2d skips and GELU, the utilities' LpLoss (relative L2 by torch.norm
# over flattened samples) and UnitGaussianNormalizer (encode/decode with mean/std and eps), Adam with
# weight_decay, StepLR. The data is a Gaussian random field drawn the way the data-generation scripts do it:
# complex normal coefficients torch.randn(..., dtype=torch.cfloat) scaled by the square root of a Matérn-like
# spectrum, ifft2 back to space, a threshold for the Darcy-style coefficient, and a smoothed solution target.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SpectralConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, modes1, modes2):
        super(SpectralConv2d, self).__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.modes1 = modes1
        self.modes2 = modes2
        self.scale = (1 / (in_channels * out_channels))
        self.weights1 = nn.Parameter(
            self.scale * torch.rand(in_channels, out_channels, self.modes1, self.modes2, dtype=torch.cfloat))
        self.weights2 = nn.Parameter(
            self.scale * torch.rand(in_channels, out_channels, self.modes1, self.modes2, dtype=torch.cfloat))

    def compl_mul2d(self, input, weights):
        return torch.einsum("bixy,ioxy->boxy", input, weights)

    def forward(self, x):
        batchsize = x.shape[0]
        x_ft = torch.fft.rfft2(x)
        out_ft = torch.zeros(batchsize, self.out_channels, x.size(-2), x.size(-1) // 2 + 1, dtype=torch.cfloat,
                             device=x.device)
        out_ft[:, :, :self.modes1, :self.modes2] = \
            self.compl_mul2d(x_ft[:, :, :self.modes1, :self.modes2], self.weights1)
        out_ft[:, :, -self.modes1:, :self.modes2] = \
            self.compl_mul2d(x_ft[:, :, -self.modes1:, :self.modes2], self.weights2)
        x = torch.fft.irfft2(out_ft, s=(x.size(-2), x.size(-1)))
        return x


class FNO2d(nn.Module):
    def __init__(self, modes1, modes2, width):
        super(FNO2d, self).__init__()
        self.modes1 = modes1
        self.modes2 = modes2
        self.width = width
        self.padding = 2
        self.fc0 = nn.Linear(3, self.width)
        self.conv0 = SpectralConv2d(self.width, self.width, self.modes1, self.modes2)
        self.conv1 = SpectralConv2d(self.width, self.width, self.modes1, self.modes2)
        self.w0 = nn.Conv2d(self.width, self.width, 1)
        self.w1 = nn.Conv2d(self.width, self.width, 1)
        self.fc1 = nn.Linear(self.width, 32)
        self.fc2 = nn.Linear(32, 1)

    def forward(self, x):
        grid = self.get_grid(x.shape, x.device)
        x = torch.cat((x, grid), dim=-1)
        x = self.fc0(x)
        x = x.permute(0, 3, 1, 2)
        x = F.pad(x, [0, self.padding, 0, self.padding])
        x1 = self.conv0(x)
        x2 = self.w0(x)
        x = x1 + x2
        x = F.gelu(x)
        x1 = self.conv1(x)
        x2 = self.w1(x)
        x = x1 + x2
        x = x[..., :-self.padding, :-self.padding]
        x = x.permute(0, 2, 3, 1)
        x = self.fc1(x)
        x = F.gelu(x)
        x = self.fc2(x)
        return x

    def get_grid(self, shape, device):
        batchsize, size_x, size_y = shape[0], shape[1], shape[2]
        gridx = torch.tensor(torch.linspace(0, 1, size_x), dtype=torch.float)
        gridx = gridx.reshape(1, size_x, 1, 1).repeat([batchsize, 1, size_y, 1])
        gridy = torch.tensor(torch.linspace(0, 1, size_y), dtype=torch.float)
        gridy = gridy.reshape(1, 1, size_y, 1).repeat([batchsize, size_x, 1, 1])
        return torch.cat((gridx, gridy), dim=-1).to(device)


class LpLoss(object):
    def __init__(self, d=2, p=2, size_average=True, reduction=True):
        super(LpLoss, self).__init__()
        assert d > 0 and p > 0
        self.d = d
        self.p = p
        self.reduction = reduction
        self.size_average = size_average

    def abs(self, x, y):
        num_examples = x.size()[0]
        h = 1.0 / (x.size()[1] - 1.0)
        all_norms = (h ** (self.d / self.p)) * torch.norm(x.view(num_examples, -1) - y.view(num_examples, -1),
                                                          self.p, 1)
        return torch.mean(all_norms) if self.size_average else torch.sum(all_norms)

    def rel(self, x, y):
        num_examples = x.size()[0]
        diff_norms = torch.norm(x.reshape(num_examples, -1) - y.reshape(num_examples, -1), self.p, 1)
        y_norms = torch.norm(y.reshape(num_examples, -1), self.p, 1)
        if self.reduction:
            if self.size_average:
                return torch.mean(diff_norms / y_norms)
            return torch.sum(diff_norms / y_norms)
        return diff_norms / y_norms

    def __call__(self, x, y):
        return self.rel(x, y)


class UnitGaussianNormalizer(object):
    def __init__(self, x, eps=0.00001):
        super(UnitGaussianNormalizer, self).__init__()
        self.mean = torch.mean(x, 0)
        self.std = torch.std(x, 0)
        self.eps = eps

    def encode(self, x):
        return (x - self.mean) / (self.std + self.eps)

    def decode(self, x, sample_idx=None):
        std = self.std + self.eps
        return (x * std) + self.mean


def gaussian_random_field(n, s, alpha=2.0, tau=3.0):
    k = torch.fft.fftfreq(s, d=1.0 / s)
    k1, k2 = torch.meshgrid(k, k, indexing="ij")
    sqrt_eig = (s ** 2) * math.sqrt(2.0) * (4 * math.pi ** 2 * (k1 ** 2 + k2 ** 2) + tau ** 2) ** (-alpha / 2.0)
    sqrt_eig[0, 0] = 0.0
    coeff = torch.randn(n, s, s, dtype=torch.cfloat)
    coeff = sqrt_eig * coeff
    return torch.fft.ifftn(coeff, dim=(-2, -1)).real


torch.manual_seed(0)
s, ntrain, ntest = 12, 16, 4
field = gaussian_random_field(ntrain + ntest, s)
coef = torch.where(field >= 0, 12.0, 3.0)
kernel = torch.ones(1, 1, 3, 3) / 9.0
solution = F.conv2d(F.pad((1.0 / coef).unsqueeze(1), (1, 1, 1, 1), mode="circular"), kernel).squeeze(1)
print("field", tuple(field.shape), round(field.std().item(), 5), round(solution.mean().item(), 6))
x_train, y_train = coef[:ntrain], solution[:ntrain]
x_test, y_test = coef[ntrain:], solution[ntrain:]
x_normalizer = UnitGaussianNormalizer(x_train)
x_train = x_normalizer.encode(x_train).reshape(ntrain, s, s, 1)
x_test = x_normalizer.encode(x_test).reshape(ntest, s, s, 1)
y_normalizer = UnitGaussianNormalizer(y_train)
y_train = y_normalizer.encode(y_train)

model = FNO2d(modes1=4, modes2=4, width=8)
print("weights", model.conv0.weights1.dtype, model.conv0.weights1[0, 0, 0, :2])
n_params = sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())
print("parameters", n_params)
optimizer = torch.optim.Adam(model.parameters(), lr=0.005, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
myloss = LpLoss(size_average=False)
history = []
for ep in range(4):
    model.train()
    train_l2 = 0.0
    perm = torch.randperm(ntrain)
    for i in range(0, ntrain, 4):
        idx = perm[i:i + 4]
        x, y = x_train[idx], y_train[idx]
        optimizer.zero_grad()
        out = model(x).reshape(4, s, s)
        out = y_normalizer.decode(out)
        y = y_normalizer.decode(y)
        loss = myloss(out.view(4, -1), y.view(4, -1))
        loss.backward()
        optimizer.step()
        train_l2 += loss.item()
    scheduler.step()
    model.eval()
    with torch.no_grad():
        out = y_normalizer.decode(model(x_test).reshape(ntest, s, s))
        test_l2 = myloss(out.view(ntest, -1), y_test.view(ntest, -1)).item()
    history.append([round(train_l2 / ntrain, 6), round(test_l2 / ntest, 6)])
print(history)
abs_err = LpLoss(size_average=True).abs(out, y_test)
print("abs", round(abs_err.item(), 7))
results = {"history": history, "field": field, "solution": solution, "w1": model.conv0.weights1.detach()[0, :2],
           "w1_grad": model.conv1.weights2.grad[:2, :2], "test_out": out, "fc0": model.fc0.weight.detach()}
