"""transformer_train: one Adam training step (zero_grad, forward, cross-entropy, backward,
step) of a small GPT-style model, float32, for chainrule and PyTorch (CPU, same threads),
interleaved in one process; medians, ratios and minor page faults per step.

    token embedding (vocab 65) + learned position embedding (block 64), 128 wide
    4 x nn.TransformerEncoderLayer(128, 4 heads, feed-forward 512 (--feedforward), dropout 0,
                                   batch_first, norm_first, ReLU (--activation)), causal mask
                                   (is_causal=True)
    final LayerNorm, Linear 128 -> 65; batch 16

The same source builds both models (``lib`` is ``torch`` or ``chainrule``). PyTorch takes its
ordinary path (its fused inference kernels do not run in training); its attention core on
the CPU is a flash-attention kernel. There is no NumPy floor here: the model is too big for
a hand-written one to be worth keeping.
"""
from __future__ import annotations

import argparse

import numpy as np

from _harness import (configure_threads, framework, interleaved, malloc_note,
                      print_environment, report, scalar, step_runners)

VOCAB, BLOCK, WIDTH, HEADS, LAYERS, BATCH = 65, 64, 128, 4, 4, 16
FEEDFORWARD = 4 * WIDTH  # GPT's; ``--feedforward 2048`` gives TransformerEncoderLayer's default
LR = 1e-3
IMPLEMENTATIONS = ("chainrule", "pytorch")


def make_problem(seed: int = 0):
    """A batch of token ids and its next-token targets."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, VOCAB, (BATCH, BLOCK)).astype(np.int64)
    y = rng.integers(0, VOCAB, (BATCH, BLOCK)).astype(np.int64)
    return x, y


def gpt(lib, feedforward: int, activation: str):
    """The model, written the PyTorch way (``import chainrule as torch`` runs it unchanged)."""
    nn = lib.nn

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(VOCAB, WIDTH)
            self.pos = nn.Embedding(BLOCK, WIDTH)
            layer = nn.TransformerEncoderLayer(WIDTH, HEADS, feedforward, dropout=0.0, activation=activation,
                                               batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
            self.ln = nn.LayerNorm(WIDTH)
            self.head = nn.Linear(WIDTH, VOCAB)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(BLOCK))

        def forward(self, idx):
            x = self.tok(idx) + self.pos(lib.arange(idx.shape[1]))
            x = self.blocks(x, mask=self.mask, is_causal=True)
            return self.head(self.ln(x))

    return GPT()


def build(name: str, feedforward: int = FEEDFORWARD, activation: str = "relu"):
    """(step, the gradient of the first layer's packed attention weight as a NumPy array) for
    one framework, all weights drawn from one NumPy stream so that both start from the same
    numbers."""
    lib = framework(name)
    model = gpt(lib, feedforward, activation)
    rng = np.random.default_rng(1)
    with lib.no_grad():
        for pname, p in model.named_parameters():
            values = rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.05
            if pname.endswith("weight") and ("norm" in pname or pname == "ln.weight"):
                values += 1.0
            p.copy_(lib.from_numpy(values))
    optimizer = lib.optim.Adam(model.parameters(), lr=LR)
    x, y = make_problem()
    inputs, targets = lib.from_numpy(x), lib.from_numpy(y)

    def step():
        optimizer.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(inputs).reshape(-1, VOCAB), targets.reshape(-1))
        loss.backward()
        optimizer.step()
        return loss

    weight = model.blocks.layers[0].self_attn.in_proj_weight
    return step, lambda: weight.grad.detach().numpy().copy()


def check_same_math(feedforward: int, activation: str) -> float:
    """One step of each from the same weights: the losses and the gradients of the first
    layer's attention weights must agree with PyTorch's (Adam's first update, lr * g / (|g| +
    eps), is too sensitive where g is near 0 to compare), else the timing compares nothing."""
    losses, grads = {}, {}
    for name in IMPLEMENTATIONS:
        step, gradient = build(name, feedforward, activation)
        losses[name] = scalar(step())
        grads[name] = gradient()
    scale = np.abs(grads["pytorch"]).max()
    if not np.allclose(grads["chainrule"], grads["pytorch"], rtol=1e-3, atol=1e-3 * scale):
        raise AssertionError("chainrule's gradient of the first layer's in_proj_weight differs from PyTorch's")
    if abs(losses["chainrule"] - losses["pytorch"]) > 1e-4:
        raise AssertionError(f"losses differ: {losses}")
    return losses["pytorch"]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3, help="steps per timed run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--feedforward", type=int, default=FEEDFORWARD, help="dim_feedforward of each layer")
    parser.add_argument("--activation", choices=("relu", "gelu"), default="relu")
    parser.add_argument("--profile", action="store_true", help="cProfile chainrule's steps instead")
    args = parser.parse_args(argv)

    print_environment(configure_threads(args.threads))
    print(malloc_note())
    if args.profile:
        import cProfile
        import pstats

        step, _ = build("chainrule", args.feedforward, args.activation)
        for _ in range(2):
            step()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.steps):
            scalar(step())
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return {}
    loss = check_same_math(args.feedforward, args.activation)
    runners, faults = step_runners({name: build(name, args.feedforward, args.activation)[0]
                                    for name in IMPLEMENTATIONS}, args.steps)
    times = interleaved(runners, args.repeats, warmup=1)
    medians = report(f"transformer_train: GPT {LAYERS} layers x {HEADS} heads x {WIDTH} wide, feed-forward "
                     f"{args.feedforward}, {args.activation}, block {BLOCK}, batch {BATCH}, float32, one Adam step (same math checked: "
                     f"first loss {loss:.4f})", times, "ms/step", 1e3)
    print("  minor page faults per step (median): " + ", ".join(
        f"{name} {sorted(v)[len(v) // 2]:.0f}" for name, v in faults.items()))
    key = "transformer_train" + ("" if args.feedforward == FEEDFORWARD else f"_ff{args.feedforward}") + \
        ("" if args.activation == "relu" else f"_{args.activation}")
    return {key: medians["chainrule"] / medians["pytorch"]}


if __name__ == "__main__":
    main()
