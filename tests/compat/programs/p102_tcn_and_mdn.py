# Two sequence/density models in their reference repositories' style. The TCN (Bai et al.): TemporalBlocks of
# dilated causal Conv1d wrapped in the old nn.utils.weight_norm (weight_g / weight_v, removed again with
# remove_weight_norm) and in nn.utils.parametrizations.weight_norm (parametrizations.weight.original0/1), a
# Chomp1d cutting the padding, a 1x1 downsample, normal_(0, 0.01) init, trained on the adding problem with
# gradient clipping; then a Mixture Density Network (Bishop; the hardmaru/sagelywizard style): pi, sigma and mu
# heads (F.softplus / exp with an ELU+1 variant), the negative log-likelihood via torch.logsumexp over
# Normal(...).log_prob plus log_softmax, trained on the inverted sine problem, and sampling with
# Categorical(...).sample() + gather + normal draws under torch.manual_seed.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, Normal
from torch.nn.utils import weight_norm


class Chomp1d(nn.Module):
    def __init__(self, chomp_size):
        super(Chomp1d, self).__init__()
        self.chomp_size = chomp_size

    def forward(self, x):
        return x[:, :, :-self.chomp_size].contiguous()


class TemporalBlock(nn.Module):
    def __init__(self, n_inputs, n_outputs, kernel_size, stride, dilation, padding, dropout=0.2, new_style=False):
        super(TemporalBlock, self).__init__()
        wn = nn.utils.parametrizations.weight_norm if new_style else weight_norm
        self.conv1 = wn(nn.Conv1d(n_inputs, n_outputs, kernel_size, stride=stride, padding=padding,
                                  dilation=dilation))
        self.chomp1 = Chomp1d(padding)
        self.relu1 = nn.ReLU()
        self.dropout1 = nn.Dropout(dropout)
        self.conv2 = wn(nn.Conv1d(n_outputs, n_outputs, kernel_size, stride=stride, padding=padding,
                                  dilation=dilation))
        self.chomp2 = Chomp1d(padding)
        self.relu2 = nn.ReLU()
        self.dropout2 = nn.Dropout(dropout)
        self.net = nn.Sequential(self.conv1, self.chomp1, self.relu1, self.dropout1,
                                 self.conv2, self.chomp2, self.relu2, self.dropout2)
        self.downsample = nn.Conv1d(n_inputs, n_outputs, 1) if n_inputs != n_outputs else None
        self.relu = nn.ReLU()
        self.init_weights()

    def init_weights(self):
        if hasattr(self.conv1, "weight_v"):
            self.conv1.weight_v.data.normal_(0, 0.01)
            self.conv2.weight_v.data.normal_(0, 0.01)
        else:
            self.conv1.parametrizations.weight.original1.data.normal_(0, 0.01)
            self.conv2.parametrizations.weight.original1.data.normal_(0, 0.01)
        if self.downsample is not None:
            self.downsample.weight.data.normal_(0, 0.01)

    def forward(self, x):
        out = self.net(x)
        res = x if self.downsample is None else self.downsample(x)
        return self.relu(out + res)


class TemporalConvNet(nn.Module):
    def __init__(self, num_inputs, num_channels, kernel_size=2, dropout=0.2, new_style=False):
        super(TemporalConvNet, self).__init__()
        layers = []
        num_levels = len(num_channels)
        for i in range(num_levels):
            dilation_size = 2 ** i
            in_channels = num_inputs if i == 0 else num_channels[i - 1]
            out_channels = num_channels[i]
            layers += [TemporalBlock(in_channels, out_channels, kernel_size, stride=1, dilation=dilation_size,
                                     padding=(kernel_size - 1) * dilation_size, dropout=dropout,
                                     new_style=new_style)]
        self.network = nn.Sequential(*layers)

    def forward(self, x):
        return self.network(x)


class TCN(nn.Module):
    def __init__(self, input_size, output_size, num_channels, kernel_size, dropout, new_style=False):
        super(TCN, self).__init__()
        self.tcn = TemporalConvNet(input_size, num_channels, kernel_size=kernel_size, dropout=dropout,
                                   new_style=new_style)
        self.linear = nn.Linear(num_channels[-1], output_size)
        self.init_weights()

    def init_weights(self):
        self.linear.weight.data.normal_(0, 0.01)

    def forward(self, x):
        y1 = self.tcn(x)
        return self.linear(y1[:, :, -1])


def data_generator(N, seq_length):
    X_num = torch.rand([N, 1, seq_length])
    X_mask = torch.zeros([N, 1, seq_length])
    Y = torch.zeros([N, 1])
    for i in range(N):
        positions = torch.randperm(seq_length)[:2]
        X_mask[i, 0, positions[0]] = 1
        X_mask[i, 0, positions[1]] = 1
        Y[i, 0] = X_num[i, 0, positions[0]] + X_num[i, 0, positions[1]]
    X = torch.cat((X_num, X_mask), dim=1)
    return X, Y


results = {}
for new_style in (False, True):
    torch.manual_seed(1111)
    X_train, Y_train = data_generator(32, 12)
    model = TCN(2, 1, [8, 8, 8], kernel_size=3, dropout=0.1, new_style=new_style)
    names = [n for n, _ in model.named_parameters()][:4]
    print(names)
    optimizer = torch.optim.Adam(model.parameters(), lr=4e-3)
    history = []
    model.train()
    for epoch in range(3):
        for i in range(0, 32, 8):
            x, y = X_train[i:i + 8], Y_train[i:i + 8]
            optimizer.zero_grad()
            output = model(x)
            loss = F.mse_loss(output, y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.2)
            optimizer.step()
        history.append(round(loss.item(), 6))
    model.eval()
    with torch.no_grad():
        test = model(X_train[:4])
    conv = model.tcn.network[1].conv1
    weight = conv.weight.detach().clone()
    if new_style:
        g = conv.parametrizations.weight.original0.detach()
        torch.nn.utils.parametrize.remove_parametrizations(conv, "weight")
    else:
        g = conv.weight_g.detach()
        torch.nn.utils.remove_weight_norm(conv)
    print("new" if new_style else "old", history, tuple(g.shape), torch.equal(conv.weight.detach(), weight))
    results["new" if new_style else "old"] = {"history": history, "test": test, "g": g, "weight": weight}


class MDN(nn.Module):
    def __init__(self, n_hidden, n_gaussians, elu_sigma=False):
        super().__init__()
        self.z_h = nn.Sequential(nn.Linear(1, n_hidden), nn.Tanh())
        self.z_pi = nn.Linear(n_hidden, n_gaussians)
        self.z_sigma = nn.Linear(n_hidden, n_gaussians)
        self.z_mu = nn.Linear(n_hidden, n_gaussians)
        self.elu_sigma = elu_sigma

    def forward(self, x):
        z_h = self.z_h(x)
        log_pi = F.log_softmax(self.z_pi(z_h), -1)
        if self.elu_sigma:
            sigma = F.elu(self.z_sigma(z_h)) + 1 + 1e-6
        else:
            sigma = F.softplus(self.z_sigma(z_h), beta=2.0) + 1e-4
        mu = self.z_mu(z_h)
        return log_pi, sigma, mu


def mdn_loss_fn(log_pi, sigma, mu, y):
    log_prob = Normal(loc=mu, scale=sigma).log_prob(y)
    return -torch.logsumexp(log_pi + log_prob, dim=1).mean()


def mdn_loss_manual(log_pi, sigma, mu, y):
    oneDivSqrtTwoPI = 1.0 / math.sqrt(2.0 * math.pi)
    result = (y.expand_as(mu) - mu) * torch.reciprocal(sigma)
    result = -0.5 * (result * result)
    result = (torch.exp(result) * torch.reciprocal(sigma)) * oneDivSqrtTwoPI
    result = torch.sum(result * torch.exp(log_pi), dim=1)
    return torch.mean(-torch.log(result))


torch.manual_seed(0)
n_samples = 200
y_data = torch.rand(n_samples, 1) * 8 - 4
x_data = torch.sin(0.75 * y_data) * 7.0 + y_data * 0.5 + torch.randn(n_samples, 1)
mdn_hist = []
for elu in (False, True):
    torch.manual_seed(2)
    mdn = MDN(n_hidden=16, n_gaussians=4, elu_sigma=elu)
    optimizer = torch.optim.Adam(mdn.parameters(), lr=1e-2)
    for epoch in range(15):
        log_pi, sigma, mu = mdn(x_data)
        loss = mdn_loss_fn(log_pi, sigma, mu, y_data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    manual = mdn_loss_manual(*mdn(x_data), y_data)
    mdn_hist.append([round(loss.item(), 6), round(manual.item(), 6)])
print("mdn", mdn_hist)

torch.manual_seed(3)
x_test = torch.linspace(-10, 10, 8).unsqueeze(1)
with torch.no_grad():
    log_pi, sigma, mu = mdn(x_test)
    k = Categorical(logits=log_pi).sample().unsqueeze(1)
    chosen_mu, chosen_sigma = mu.gather(1, k), sigma.gather(1, k)
    samples = chosen_mu + chosen_sigma * torch.randn_like(chosen_mu)
print(k.flatten().tolist())
results["mdn"] = mdn_hist
results["samples"] = samples
results["sigma"] = sigma
