"""conv_train: one SGD training step of a small CNN on 28x28 inputs (batch 64, float32,
cross-entropy, lr 0.01) for chainrule (eager, and compiled: ``chainrule.compile`` of the
forward and the loss), PyTorch (CPU, same threads; ``--torch-compile`` adds
``torch.compile``) and a hand-written NumPy floor, interleaved in one process; medians,
ratios and minor page faults per step.

    conv 1->8 3x3, ReLU, maxpool 2, conv 8->16 3x3, ReLU, maxpool 2, flatten, linear 400->10

The floor keeps activations channels-last (NHWC, so a convolution's GEMM output needs no
transpose), builds its im2col columns by copying a ``sliding_window_view`` into a kept
buffer, runs each convolution as one GEMM with the bias folded in, sends max-pool gradients
through the window positions that hold the maximum, scatters column gradients back as nine
small GEMMs added into shifted windows (col2im), and updates in place; nothing large is
allocated after its first step.
"""
from __future__ import annotations

import argparse

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from _harness import (check_same_math, compiled, configure_threads, framework, interleaved, malloc_note,
                      print_environment, report, report_floor_and_faults, sgd_training_step,
                      step_runners, torch_compile_works)

BATCH = 64
LR = 0.01
IMPLEMENTATIONS = ("chainrule", "chainrule compiled", "pytorch", "numpy floor")


def make_problem(seed: int = 0):
    """PyTorch-style initial weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)), a fixed batch."""
    rng = np.random.default_rng(seed)

    def uniform(shape, fan_in):
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    params = {
        "conv1": (uniform((8, 1, 3, 3), 9), uniform(8, 9)),
        "conv2": (uniform((16, 8, 3, 3), 72), uniform(16, 72)),
        "fc": (uniform((10, 400), 400), uniform(10, 400)),
    }
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, BATCH).astype(np.int64)
    return params, x, y


class NumpyCNN:
    """The step by hand, every array allocated once (in the first step) and reused.

    Tricks any careful NumPy author would use: each convolution's bias rides in its GEMM
    (a column of ones in the im2col buffer, so the bias gradient falls out of the weight
    gradient's GEMM); the im2col columns are ordered (kh, kw, c) so that copies run along
    contiguous channels; ReLU is applied after the max-pool (the same values, a quarter of
    the work); the pool's gradient goes through four strided quarter views."""

    def __init__(self, params, x, y) -> None:
        (w1, b1), (w2, b2), (w3, b3) = params["conv1"], params["conv2"], params["fc"]
        # (out, kh*kw*c + 1): the weights in column order, the bias as the last column.
        self.w1 = np.concatenate([w1.transpose(0, 2, 3, 1).reshape(8, 9), b1[:, None]], 1)
        self.w2 = np.concatenate([w2.transpose(0, 2, 3, 1).reshape(16, 72), b2[:, None]], 1)
        # The linear layer's columns permuted once from PyTorch's (c, h, w) flattening to
        # this layout's (h, w, c).
        self.w3 = w3.reshape(10, 16, 5, 5).transpose(0, 2, 3, 1).reshape(10, 400).copy()
        self.b3 = b3.copy()
        self.x = np.ascontiguousarray(x[:, 0])  # one channel: NHWC is (n, 28, 28)
        self.y, self.rows = y, np.arange(x.shape[0])
        self.ready = False

    def _allocate(self) -> None:
        n, e, f32 = self.x.shape[0], np.empty, np.float32
        # conv1's columns stored transposed, (kh*kw + 1, n*26*26): each of the nine copies
        # then runs along a contiguous image row.
        self.cols1t, self.y1 = e((10, n * 676), f32), e((n, 26, 26, 8), f32)
        self.cols2, self.y2 = e((n * 121, 73), f32), e((n, 11, 11, 16), f32)
        self.cols1t[9] = 1
        self.cols2[:, 72] = 1
        self.p1, self.p2 = e((n, 13, 13, 8), f32), e((n, 5, 5, 16), f32)
        self.logits, self.probs, self.row = e((n, 10), f32), e((n, 10), f32), e((n, 1), f32)
        self.df, self.dcols2 = e((n, 400), f32), e((n * 121, 8), f32)
        self.dp1 = e((n, 13, 13, 8), f32)
        self.dy1, self.dy2 = e((n, 26, 26, 8), f32), np.zeros((n, 11, 11, 16), f32)
        self.mask1, self.mask2 = e((n, 13, 13, 8), bool), e((n, 5, 5, 16), bool)
        self.grads = [np.empty_like(p) for p in self.params()]
        self.ready = True

    def params(self):
        return [self.w1, self.w2, self.w3, self.b3]

    def step(self) -> float:
        if not self.ready:
            self._allocate()
        n = self.x.shape[0]
        gw1, gw2, gw3, gb3 = self.grads
        # conv1: im2col + one GEMM (bias included), 2x2 max-pool, ReLU on the pooled values.
        np.copyto(self.cols1t[:9].reshape(3, 3, n, 26, 26),
                  sliding_window_view(self.x, (3, 3), (1, 2)).transpose(3, 4, 0, 1, 2))
        np.matmul(self.cols1t.T, self.w1.T, out=self.y1.reshape(n * 676, 8))
        _pool_relu(self.y1, self.p1)
        # conv2, the same way; its 11x11 output loses its last row and column to the pool.
        windows = sliding_window_view(self.p1, (3, 3), (1, 2)).transpose(0, 1, 2, 4, 5, 3)
        np.copyto(self.cols2[:, :72].reshape(n, 11, 11, 3, 3, 8), windows)
        np.matmul(self.cols2, self.w2.T, out=self.y2.reshape(n * 121, 16))
        _pool_relu(self.y2[:, :10, :10], self.p2)
        # Linear + softmax-cross-entropy; its gradient (softmax - onehot) / n.
        flat = self.p2.reshape(n, 400)
        np.matmul(flat, self.w3.T, out=self.logits)
        self.logits += self.b3
        probs = self.probs
        np.max(self.logits, axis=1, keepdims=True, out=self.row)
        np.subtract(self.logits, self.row, out=probs)
        picked = probs[self.rows, self.y]
        np.exp(probs, out=probs)
        np.sum(probs, axis=1, keepdims=True, out=self.row)
        loss = float(np.mean(np.log(self.row[:, 0]) - picked))
        probs /= self.row
        probs[self.rows, self.y] -= 1.0
        probs *= 1.0 / n
        # Backward: linear; ReLU2 + pool2; conv2 (two GEMMs, col2im); ReLU1 + pool1; conv1.
        np.matmul(probs.T, flat, out=gw3)
        np.sum(probs, axis=0, out=gb3)
        np.matmul(probs, self.w3, out=self.df)
        _unpool_relu(self.df.reshape(n, 5, 5, 16), self.p2, self.y2[:, :10, :10],
                     self.dy2[:, :10, :10], self.mask2)
        dy2 = self.dy2.reshape(n * 121, 16)
        np.matmul(dy2.T, self.cols2, out=gw2)
        # col2im: one small GEMM per kernel position, added into its shifted window (the
        # column block and the window both run along contiguous (w, c)).
        self.dp1.fill(0)
        dcols = self.dcols2.reshape(n, 11, 11, 8)
        for k in range(9):
            i, j = divmod(k, 3)
            np.matmul(dy2, self.w2[:, 8 * k:8 * k + 8], out=self.dcols2)
            self.dp1[:, i:i + 11, j:j + 11] += dcols
        _unpool_relu(self.dp1, self.p1, self.y1, self.dy1, self.mask1)
        np.matmul(self.dy1.reshape(n * 676, 8).T, self.cols1t.T, out=gw1)
        # SGD, in place.
        for p, g in zip(self.params(), self.grads):
            g *= LR
            p -= g
        return loss


def _quarters(a):
    """The four strided views of a 2x2 pooling's window positions (NHWC ``a``)."""
    return [a[:, i::2, j::2] for i in (0, 1) for j in (0, 1)]


def _pool_relu(y, pooled) -> None:
    """relu(maxpool(y)), which equals maxpool(relu(y)), into ``pooled``."""
    q = _quarters(y)
    np.maximum(q[0], q[1], out=pooled)
    np.maximum(pooled, q[2], out=pooled)
    np.maximum(pooled, q[3], out=pooled)
    np.maximum(pooled, 0, out=pooled)


def _unpool_relu(grad, pooled, y, dy, mask) -> None:
    """The gradient through ReLU then max-pool: ``grad`` where the pooled value is positive,
    sent to the window position(s) that hold it; zero elsewhere."""
    np.greater(pooled, 0, out=mask)
    np.multiply(grad, mask, out=grad)
    for yq, dq in zip(_quarters(y), _quarters(dy)):
        np.equal(yq, pooled, out=mask)
        np.multiply(grad, mask, out=dq)


def framework_step(lib, params, x, y, compile: bool = False):
    nn = lib.nn
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 10),
    )
    with lib.no_grad():
        for layer, name in ((model[0], "conv1"), (model[3], "conv2"), (model[7], "fc")):
            w, b = params[name]
            layer.weight.copy_(lib.from_numpy(w.copy()))
            layer.bias.copy_(lib.from_numpy(b.copy()))
    return sgd_training_step(lib, model, x, y, LR, compile), model


def build(name: str):
    """(step, a function giving conv1's weight as (8, 9) in PyTorch's order) for one
    implementation."""
    params, x, y = make_problem()
    if name == "numpy floor":
        floor = NumpyCNN(params, x, y)
        # The floor's (kh, kw, c) column order is PyTorch's (c, kh, kw) for one channel.
        return floor.step, lambda: floor.w1[:, :9]
    step, model = framework_step(framework(name), params, x, y, compiled(name))
    return step, lambda: model[0].weight.detach().numpy().reshape(8, 9)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=5, help="steps per timed run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--torch-compile", action="store_true",
                        help="also time torch.compile (inductor; its first call compiles for a minute or more)")
    args = parser.parse_args(argv)

    print_environment(configure_threads(args.threads))
    print(malloc_note())
    names = IMPLEMENTATIONS
    if args.torch_compile:
        why_not = torch_compile_works()
        print(f"torch.compile: {'runs here' if why_not is None else 'does not run here: ' + why_not}")
        names = names + (("pytorch compiled",) if why_not is None else ())
    # One step from the same weights: the losses and conv1's weight updates must agree.
    loss = check_same_math(build, names, "conv1's weights")
    runners, faults = step_runners({name: build(name)[0] for name in names}, args.steps)
    times = interleaved(runners, args.repeats, warmup=2)
    medians = report(f"conv_train: CNN on 28x28, batch {BATCH}, float32, one SGD step "
                     f"(same math checked: first loss {loss:.4f})", times, "ms/step", 1e3)
    report_floor_and_faults(medians, faults)
    results = {"conv_train": medians["chainrule"] / medians["pytorch"],
               "conv_train_compiled": medians["chainrule compiled"] / medians["pytorch"]}
    if "pytorch compiled" in medians:
        results["conv_train_torch_compiled"] = medians["pytorch compiled"] / medians["pytorch"]
    return results


if __name__ == "__main__":
    main()
