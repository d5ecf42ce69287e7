"""rnn_train: one Adam training step (zero_grad, forward, summed squared error, backward, step) of a
2-layer LSTM and of a 2-layer GRU, input 128, hidden 256, sequence 64, batch 32, float32,
for chainrule and PyTorch (CPU, same threads), interleaved in one process; medians and
ratios, then the LSTM step's peak memory, each framework in a fresh process of its own.

Both start from the same weights (drawn with NumPy, PyTorch's U(-1/sqrt(hidden),
1/sqrt(hidden))) and the same batch; one step of each is checked first (loss and the update
of ``weight_ih_l0``) so the ratio compares the same math (the loss is a sum, not a mean, so
that the gradients stand well above Adam's eps and float32 rounding cannot flip an update). PyTorch runs its own fused CPU
kernels (oneDNN for the float32 LSTM); chainrule runs one graph node per layer whose time
loop is NumPy (``chainrule/ops/rnn.py``).

Peak memory as ``mlp_train`` measures it: after the model, optimizer and batch exist, the
free heap is handed back (``malloc_trim``) and the resident-set high-water mark reset; the
peak growth during 3 + N steps is what the steps needed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

from _harness import (check_same_math, configure_threads, framework, interleaved, malloc_note,
                      print_environment, report, step_runners)
from mlp_train import limit_threads, measure

INPUT, HIDDEN, LAYERS, STEPS, BATCH = 128, 256, 2, 64, 32
LR = 1e-3
KINDS = ("LSTM", "GRU")
IMPLEMENTATIONS = ("chainrule", "pytorch")


def make_problem(kind: str, seed: int = 0):
    """Weights by PyTorch's parameter names, a batch (time, batch, input) and a target."""
    rng = np.random.default_rng(seed)
    gates = {"LSTM": 4, "GRU": 3}[kind] * HIDDEN
    bound = 1.0 / np.sqrt(HIDDEN)
    weights = {}
    for layer in range(LAYERS):
        inputs = INPUT if layer == 0 else HIDDEN
        for name, shape in (("weight_ih", (gates, inputs)), ("weight_hh", (gates, HIDDEN)),
                            ("bias_ih", (gates,)), ("bias_hh", (gates,))):
            weights[f"{name}_l{layer}"] = rng.uniform(-bound, bound, shape).astype(np.float32)
    x = rng.standard_normal((STEPS, BATCH, INPUT)).astype(np.float32)
    target = rng.standard_normal((STEPS, BATCH, HIDDEN)).astype(np.float32)
    return weights, x, target


def framework_step(lib, kind: str):
    """``step() -> loss`` written the PyTorch way (``import chainrule as torch`` runs it
    unchanged), and the model."""
    weights, x, target = make_problem(kind)
    model = getattr(lib.nn, kind)(INPUT, HIDDEN, num_layers=LAYERS)
    model.load_state_dict({name: lib.from_numpy(w.copy()) for name, w in weights.items()})
    optimizer = lib.optim.Adam(model.parameters(), lr=LR)
    inputs, targets = lib.from_numpy(x.copy()), lib.from_numpy(target.copy())

    def step():
        optimizer.zero_grad()
        output, _ = model(inputs)
        loss = lib.nn.functional.mse_loss(output, targets, reduction="sum")
        loss.backward()
        optimizer.step()
        return loss

    return step, model


def build(name: str, kind: str):
    """(step, ``weight_ih_l0`` as a NumPy array) for one framework."""
    step, model = framework_step(framework(name), kind)
    first = model.weight_ih_l0
    return step, lambda: first.detach().numpy()


def child(name: str, steps: int, threads: int) -> dict:
    """In a fresh process: the LSTM step's peak RSS growth and time per step."""
    limit_threads(name, threads)
    step, _ = build(name, "LSTM")
    return measure(step, steps)


def run_child(name: str, steps: int, threads: int) -> dict:
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", name, "--steps", str(steps),
         "--threads", str(threads)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-memory", action="store_true", help="skip the subprocess runs")
    parser.add_argument("--child", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.child, args.steps, args.threads)))
        return {}

    print_environment(configure_threads(args.threads))
    print(malloc_note())
    results = {}
    for kind in args.kinds:
        loss = check_same_math(lambda name: build(name, kind), IMPLEMENTATIONS, "weight_ih_l0", f" ({kind})")
        runners, _ = step_runners({name: build(name, kind)[0] for name in IMPLEMENTATIONS}, 3)
        times = interleaved(runners, args.repeats, warmup=1)
        medians = report(f"rnn_train {kind}: {LAYERS} layers, input {INPUT}, hidden {HIDDEN}, sequence {STEPS}, "
                         f"batch {BATCH}, float32, one Adam step (same math checked: first loss {loss:.1f})",
                         times, "ms/step", 1e3)
        results[f"{kind.lower()}_train"] = medians["chainrule"] / medians["pytorch"]
    if not args.no_memory and "LSTM" in args.kinds:
        print(f"  LSTM, each framework in its own process ({args.threads} thread(s)): peak RSS growth during "
              "the steps and time per step")
        isolated = {name: run_child(name, 5, args.threads) for name in IMPLEMENTATIONS}
        for name, r in isolated.items():
            exact = "" if r["exact_peak"] else "  (VmHWM not resettable: includes set-up)"
            print(f"    {name:<10} peak +{r['peak_growth_kb'] / 1024:7.2f} MiB   {r['ms_per_step']:8.2f} ms/step{exact}")
        results["lstm_peak_vs_pytorch"] = (isolated["chainrule"]["peak_growth_kb"]
                                           / max(isolated["pytorch"]["peak_growth_kb"], 1))
        print(f"  peak RSS growth, chainrule / PyTorch: {results['lstm_peak_vs_pytorch']:.2f}")
    return results


if __name__ == "__main__":
    main()
