# Dive into Deep Learning, the "from scratch" chapters: softmax regression with a hand-written softmax and
# cross-entropy, weight decay as an L2 penalty, dropout from a uniform mask, batch normalisation with moving
# averages, GRU and LSTM cells from their equations, masked softmax, additive and scaled dot-product
# attention, and the sinusoidal positional encoding.  d2l's spellings included: argmax(axis=1),
# torch.randn(size=shape), torch.normal(0, 1, size), LazyLinear.
import math

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[list(range(len(y_hat))), y])


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


num_inputs, num_outputs = 20, 5
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)
X = torch.randn(100, num_inputs)
y = (X[:, :5] * torch.arange(1, 6)).argmax(1)


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


softmax_log = []
for epoch in range(5):
    for i in range(0, 100, 25):
        l = cross_entropy(net(X[i:i + 25]), y[i:i + 25]) + 0.01 * l2_penalty(W)
        l.sum().backward()
        sgd([W, b], 0.5, 25)
    with torch.no_grad():
        softmax_log.append([float(cross_entropy(net(X), y).mean()), accuracy(net(X), y) / len(y)])
print("softmax regression", softmax_log[-1])


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


X8 = torch.arange(16, dtype=torch.float32).reshape((2, 8))
print(dropout_layer(X8, 0.))
print(dropout_layer(X8, 0.5))
print(dropout_layer(X8, 1.))


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    if not torch.is_grad_enabled():
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        moving_mean = (1.0 - momentum) * moving_mean + momentum * mean
        moving_var = (1.0 - momentum) * moving_var + momentum * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X):
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var, eps=1e-5, momentum=0.1)
        return Y


lenet_bn = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5), BatchNorm(6, num_dims=4), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), BatchNorm(16, num_dims=4), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(16 * 4 * 4, 30), BatchNorm(30, num_dims=2), nn.Sigmoid(),
    nn.Linear(30, 10))
imgs = torch.randn(8, 1, 28, 28)
labels = torch.randint(0, 10, (8,))
trainer = torch.optim.SGD(lenet_bn.parameters(), lr=0.9)
bn_losses = []
for step in range(3):
    trainer.zero_grad()
    l = nn.CrossEntropyLoss(reduction="none")(lenet_bn(imgs), labels)
    l.mean().backward()
    trainer.step()
    bn_losses.append(l.mean().item())
print("lenet bn", bn_losses, lenet_bn[1].gamma.reshape((-1,)).detach()[:3])
with torch.no_grad():
    eval_out = lenet_bn(imgs)


def get_params(vocab_size, num_hiddens, lstm=False):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape) * 0.01

    def three():
        return (normal((num_inputs, num_hiddens)), normal((num_hiddens, num_hiddens)), torch.zeros(num_hiddens))

    gates = [three() for _ in range(4 if lstm else 3)]
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs)
    params = [p for gate in gates for p in gate] + [W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        Y = H @ W_hq + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


def lstm(inputs, state, params):
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q] = params
    (H, C) = state
    outputs = []
    for X in inputs:
        I = torch.sigmoid((X @ W_xi) + (H @ W_hi) + b_i)
        F_ = torch.sigmoid((X @ W_xf) + (H @ W_hf) + b_f)
        O = torch.sigmoid((X @ W_xo) + (H @ W_ho) + b_o)
        C_tilda = torch.tanh((X @ W_xc) + (H @ W_hc) + b_c)
        C = F_ * C + I * C_tilda
        H = O * torch.tanh(C)
        Y = (H @ W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H, C)


def grad_clipping(params, theta):
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm
    return norm


vocab, hiddens, steps, batch = 12, 16, 6, 4
tokens = torch.randint(0, vocab, (batch, steps + 1))
rnn_report = {}
for name, fn, is_lstm in (("gru", gru, False), ("lstm", lstm, True)):
    params = get_params(vocab, hiddens, lstm=is_lstm)
    for it in range(4):
        state = (torch.zeros((batch, hiddens)),) * (2 if is_lstm else 1)
        X = F.one_hot(tokens[:, :-1].T, vocab).type(torch.float32)
        Y_hat, state = fn(X, state, params)
        l = F.cross_entropy(Y_hat, tokens[:, 1:].T.reshape(-1))
        for p in params:
            p.grad = None
        l.backward()
        norm = grad_clipping(params, 0.05)
        sgd(params, 1.0, 1)
    rnn_report[name] = [l.item(), float(norm), torch.exp(l).item()]
print(rnn_report)


def sequence_mask(X, valid_len, value=0):
    maxlen = X.size(1)
    mask = torch.arange((maxlen), dtype=torch.float32, device=X.device)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X


def masked_softmax(X, valid_lens):
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = torch.repeat_interleave(valid_lens, shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    X = sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
    return nn.functional.softmax(X.reshape(shape), dim=-1)


print(masked_softmax(torch.rand(2, 2, 4), torch.tensor([2, 3])))
print(masked_softmax(torch.rand(2, 2, 4), torch.tensor([[1, 3], [2, 4]])))


class AdditiveAttention(nn.Module):
    def __init__(self, num_hiddens, dropout, **kwargs):
        super().__init__(**kwargs)
        self.W_k = nn.LazyLinear(num_hiddens, bias=False)
        self.W_q = nn.LazyLinear(num_hiddens, bias=False)
        self.w_v = nn.LazyLinear(1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        queries, keys = self.W_q(queries), self.W_k(keys)
        features = queries.unsqueeze(2) + keys.unsqueeze(1)
        features = torch.tanh(features)
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


class DotProductAttention(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        d = queries.shape[-1]
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


queries = torch.normal(0, 1, (2, 1, 20))
keys = torch.normal(0, 1, (2, 10, 2))
values = torch.normal(0, 1, (2, 10, 4))
valid_lens = torch.tensor([2, 6])
additive = AdditiveAttention(num_hiddens=8, dropout=0.1)
additive.eval()
add_out = additive(queries, keys, values, valid_lens)
print(add_out.shape, add_out)
dot = DotProductAttention(dropout=0.5)
dot.eval()
dot_out = dot(torch.normal(0, 1, (2, 1, 2)), keys, values, valid_lens)
print(dot_out)
(add_out.sum() + dot_out.sum()).backward()
print(additive.W_q.weight.grad.norm())


class PositionalEncoding(nn.Module):
    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.P = torch.zeros((1, max_len, num_hiddens))
        X = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
            10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)
        self.P[:, :, 0::2] = torch.sin(X)
        self.P[:, :, 1::2] = torch.cos(X)

    def forward(self, X):
        X = X + self.P[:, :X.shape[1], :].to(X.device)
        return self.dropout(X)


pos_encoding = PositionalEncoding(32, 0)
X = pos_encoding(torch.zeros((1, 60, 32)))
P = pos_encoding.P[:, :X.shape[1], :]
print(P[0, :, 6:10].sum(0), P[0, 59, 6:10])
results = {"softmax": softmax_log, "W": W.detach(), "bn": bn_losses, "eval": eval_out,
           "moving_var": lenet_bn[5].moving_var, "rnn": rnn_report, "add": add_out, "dot": dot_out,
           "attw": additive.attention_weights, "P": P}
