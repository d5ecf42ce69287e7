"""Random programs over the core ops, run by chainrule and by PyTorch from the same float64
leaves: every intermediate value, every leaf gradient and (for half the programs) the
gradient of a gradient must agree to 1e-9.

A program keeps a pool of tensors whose shapes all broadcast to (3, 4): (3, 4), (1, 4),
(3, 1) and ().  Each step draws an op from the tables below, applies it to values from the
pool (domains kept safe: logs of ``abs() + 0.1`` ...), and adds the result to the pool; the
loss weighs every pooled value with fixed random numbers, so each one gets a gradient."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings, strategies as st

import chainrule
from conftest import assert_close

SHAPES = [(3, 4), (1, 4), (3, 1), ()]
INDEX = np.array([[3, 1, 0, 2], [0, 0, 2, 1], [1, 3, 3, 0]])


def full(L, x):
    """``x`` broadcast to (3, 4) as a tensor of its own (shape ops need a fixed shape)."""
    return x.expand(3, 4).clone()


def spread(L, x):
    """``full(x)`` plus fixed distinct offsets: a broadcast value is constant along an axis,
    where std and norm have a singular derivative (0/0) that rounding decides, in PyTorch
    as here, so their inputs always vary."""
    return full(L, x) + L.tensor(OFFSETS)


OFFSETS = np.linspace(-1.0, 1.2, 12).reshape(3, 4)


def _index(L):
    return L.tensor(INDEX)


# op(L, x) -> tensor whose shape broadcasts to (3, 4)
UNARY = {
    "neg": lambda L, x: -x,
    "abs": lambda L, x: x.abs(),
    "exp": lambda L, x: x.clamp(-4.0, 4.0).exp(),
    "log": lambda L, x: (x.abs() + 0.1).log(),
    "log2": lambda L, x: L.log2(x.abs() + 0.1),
    "log1p": lambda L, x: x.abs().log1p(),
    "expm1": lambda L, x: L.expm1(x.tanh()),
    "sqrt": lambda L, x: (x.abs() + 0.1).sqrt(),
    "rsqrt": lambda L, x: (x.abs() + 0.1).rsqrt(),
    "square": lambda L, x: x.square(),
    "reciprocal": lambda L, x: (x.abs() + 0.5).reciprocal(),
    "sin": lambda L, x: x.sin(),
    "cos": lambda L, x: L.cos(x),
    "tan": lambda L, x: (x.tanh() * 0.7).tan(),
    "tanh": lambda L, x: x.tanh(),
    "sigmoid": lambda L, x: L.sigmoid(x),
    "relu": lambda L, x: x.relu(),
    "clamp": lambda L, x: x.clamp(min=-0.8, max=0.9),
    "clip-min": lambda L, x: L.clip(x, min=-0.3),
    "scalar-add": lambda L, x: x + 1.25,
    "scalar-rsub": lambda L, x: 0.5 - x,
    "scalar-mul": lambda L, x: 2.5 * x,
    "scalar-div": lambda L, x: x / 3.0,
    "scalar-rdiv": lambda L, x: 1.0 / (x.abs() + 0.5),
    "pow-int": lambda L, x: x ** 3,
    "pow-float": lambda L, x: (x.abs() + 0.5) ** 1.7,
    "rpow": lambda L, x: 1.5 ** x.tanh(),
    "sum-dim": lambda L, x: full(L, x).sum(1, keepdim=True),
    "sum-all": lambda L, x: x.sum(),
    "mean-dim": lambda L, x: full(L, x).mean(dim=0, keepdim=True),
    "prod": lambda L, x: (full(L, x).tanh() + 1.5).prod(1, keepdim=True),
    "var": lambda L, x: spread(L, x).var(1, keepdim=True),
    "std": lambda L, x: spread(L, x).std(0, keepdim=True, correction=0),
    "max-dim": lambda L, x: full(L, x).max(dim=1, keepdim=True).values,
    "min-dim": lambda L, x: full(L, x).min(dim=0, keepdim=True)[0],
    "amax": lambda L, x: full(L, x).amax(1, keepdim=True),
    "logsumexp": lambda L, x: full(L, x).logsumexp(1, keepdim=True),
    "norm": lambda L, x: spread(L, x).norm(dim=1, keepdim=True),
    "cumsum": lambda L, x: full(L, x).cumsum(1),
    "softmax": lambda L, x: full(L, x).softmax(-1),
    "log-softmax": lambda L, x: L.log_softmax(full(L, x), dim=0),
    "transpose": lambda L, x: full(L, x).transpose(0, 1).flip(0).T,
    "reshape": lambda L, x: full(L, x).reshape(2, 6).flatten().view(3, 4),
    "unsqueeze": lambda L, x: full(L, x).unsqueeze(0).permute(0, 2, 1).squeeze(0).mT,
    "repeat": lambda L, x: full(L, x)[:, :2].repeat(1, 2),
    "narrow-cat": lambda L, x: L.cat([full(L, x).narrow(0, 1, 2), full(L, x)[:1] * 2.0], 0),
    "split-stack": lambda L, x: L.stack(full(L, x).split(2, dim=1), 0).sum(0).repeat(1, 2),
    "chunk": lambda L, x: L.cat(full(L, x).chunk(2, dim=1)[::-1], dim=1),
    "index-int-array": lambda L, x: full(L, x)[:, [3, 1, 0, 2]],
    "index-steps": lambda L, x: L.cat([full(L, x)[:, ::2], full(L, x)[:, 1::2]], 1),
    "index-mask": lambda L, x: L.where(x > 0, x, 0.0) + full(L, x)[full(L, x) < 10].sum(),
    "index-none-ellipsis": lambda L, x: full(L, x)[None, ..., 1:3].reshape(3, 2).repeat(1, 2),
    "gather": lambda L, x: L.gather(full(L, x), 1, _index(L)),
    "scatter-add": lambda L, x: L.zeros(3, 4, dtype=L.float64).scatter_add(1, _index(L), full(L, x)),
    "index-select": lambda L, x: full(L, x).index_select(1, L.tensor([3, 2, 1, 0])),
    "masked-fill": lambda L, x: full(L, x).masked_fill(full(L, x) > 0.5, -1.0),
    "inplace": lambda L, x: _inplace(L, x),
    "setitem": lambda L, x: _setitem(L, x),
}


def _inplace(L, x):
    y = full(L, x) * 1.0
    y.mul_(0.5)
    y += 1.0
    y.clamp_(-2.0, 2.0)
    y.sub_(x)
    return y


def _setitem(L, x):
    y = full(L, x) * 2.0
    y[0] = x.sum() * 0.1
    y[:, 1] = y[:, 2] + 1.0
    return y


# op(L, a, b) -> tensor whose shape broadcasts to (3, 4)
BINARY = {
    "add": lambda L, a, b: a + b,
    "sub": lambda L, a, b: L.sub(a, b),
    "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / (b.abs() + 0.5),
    "pow": lambda L, a, b: (a.abs() + 0.5) ** b.tanh(),
    "maximum": lambda L, a, b: L.maximum(a, b + 0.01),
    "minimum": lambda L, a, b: a.minimum(b - 0.01),
    "where": lambda L, a, b: L.where(a > b, a, b * 2.0),
    "lerp": lambda L, a, b: L.lerp(full(L, a), full(L, b), 0.3),
    "matmul": lambda L, a, b: full(L, a) @ (full(L, b).T @ full(L, a)) * 0.1,
    "outer": lambda L, a, b: L.outer(full(L, a)[:, 0], full(L, b)[0]),
    "bmm": lambda L, a, b: L.bmm(full(L, a).unsqueeze(0), full(L, b).unsqueeze(0).mT).squeeze(0)[:, :1],
    "cat": lambda L, a, b: L.cat([full(L, a)[:, :2], full(L, b)[:, 2:]], dim=1),
}


def run_program(L, leaves, program, weights):
    pool = [L.tensor(v, dtype=L.float64, requires_grad=True) for v in leaves]
    inputs = list(pool)
    for kind, name, i, j in program:
        a = pool[i % len(pool)]
        if kind == "unary":
            pool.append(UNARY[name](L, a))
        else:
            pool.append(BINARY[name](L, a, pool[j % len(pool)]))
    loss = sum((v * L.tensor(w)).sum() for v, w in zip(pool, weights))
    return inputs, pool, loss


def make_program(seed):
    rng = np.random.default_rng(seed)
    leaves = [rng.standard_normal(SHAPES[k]) for k in rng.integers(0, len(SHAPES), 3)]
    names = [("unary", n) for n in UNARY] + [("binary", n) for n in BINARY]
    program = []
    for _ in range(int(rng.integers(3, 9))):
        kind, name = names[rng.integers(len(names))]
        program.append((kind, name, int(rng.integers(0, 100)), int(rng.integers(0, 100))))
    weights = [rng.standard_normal((3, 4)) for _ in range(len(leaves) + len(program))]
    return leaves, program, weights


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_program_matches_torch(seed):
    leaves, program, weights = make_program(seed)
    c_in, c_pool, c_loss = run_program(chainrule, leaves, program, weights)
    t_in, t_pool, t_loss = run_program(torch, leaves, program, weights)
    for k, (c, t) in enumerate(zip(c_pool, t_pool)):
        assert_close(c, t, what=f"value {k} of {program}")
    second_order = seed % 2 == 0
    c_grads = chainrule.autograd.grad(c_loss, c_in, create_graph=second_order, allow_unused=True)
    t_grads = torch.autograd.grad(t_loss, t_in, create_graph=second_order, allow_unused=True)
    for k, (c, t) in enumerate(zip(c_grads, t_grads)):
        assert (c is None) == (t is None), f"gradient {k} of {program}"
        if t is not None:
            assert_close(c, t, what=f"gradient of leaf {k} in {program}")
    if not second_order:
        return
    used = [k for k, t in enumerate(t_grads) if t is not None and t.requires_grad]
    if not used:
        return
    c_gg = chainrule.autograd.grad(sum((c_grads[k] ** 2).sum() for k in used), c_in, allow_unused=True)
    t_gg = torch.autograd.grad(sum((t_grads[k] ** 2).sum() for k in used), t_in, allow_unused=True)
    for k, (c, t) in enumerate(zip(c_gg, t_gg)):
        if t is None:
            assert c is None or not np.any(c.numpy()), f"second-order gradient {k} of {program}"
        else:
            assert_close(c, t, what=f"second-order gradient of leaf {k} in {program}")
