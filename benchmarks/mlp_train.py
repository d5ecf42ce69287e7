"""mlp_train: one SGD training step of an MLP (zero_grad, forward, cross-entropy loss,
backward, step), float32, for chainrule (eager, and compiled: ``chainrule.compile`` of the
forward and the loss), PyTorch (CPU, same threads; ``--torch-compile`` adds
``torch.compile`` of the same function) and a hand-written NumPy floor (the same math with
no framework), interleaved in one process.

Two networks (ReLU between the linear layers, SGD lr 0.01, a fixed batch):

- ``big``:   784-512-512-10, batch 256 (the GEMMs dominate);
- ``small``: 64-128-10, batch 32 (each framework's per-op overhead dominates).

Printed per network: the median time per step and the ratios to PyTorch and to the floor,
and the minor page faults per step (``getrusage(RUSAGE_SELF).ru_minflt``), which show whether a framework
keeps reusing memory or keeps handing large temporaries back to the kernel and faulting them
in again.

Peak memory is measured for each implementation in its own fresh subprocess (importing only
what that implementation needs): the growth of the resident set during the training steps
over the resident set just before them, once the model, the optimizer and the batch exist.
The free heap is first handed back to the kernel (``malloc_trim(0)``: set-up garbage must not
be reused for free), then the kernel's high-water mark (VmHWM) is reset (``clear_refs`` 5)
and read after the steps, so it counts everything a training step needs beyond the model and
the data (activations kept for backward, gradients, temporaries, BLAS buffers, the
allocator's fragmentation) and nothing the imports or the set-up did. The floor allocates its buffers in its first step,
like the frameworks allocate their gradients, so it is measured the same way.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from typing import Callable

import numpy as np

from _harness import (check_same_math, compiled, configure_threads, framework, interleaved, malloc_note,
                      minor_faults, print_environment, report, report_floor_and_faults,
                      sgd_training_step, step_runners, torch_compile_works)

SIZES = {
    "big": ((784, 512, 512, 10), 256),
    "small": ((64, 128, 10), 32),
}
LR = 0.01
IMPLEMENTATIONS = ("chainrule", "chainrule compiled", "pytorch", "numpy floor")
TORCH_COMPILED = "pytorch compiled"


# -- the problem: the same initial weights and batch for every implementation -------------

def make_problem(size: str, seed: int = 0):
    """Weights drawn like PyTorch's Linear default, U(-1/sqrt(in), 1/sqrt(in)), a fixed batch
    of standard-normal inputs and random class labels."""
    widths, batch = SIZES[size]
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        bound = 1.0 / np.sqrt(n_in)
        params.append((rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
                       rng.uniform(-bound, bound, n_out).astype(np.float32)))
    x = rng.standard_normal((batch, widths[0])).astype(np.float32)
    y = rng.integers(0, widths[-1], batch).astype(np.int64)
    return params, x, y


# -- the NumPy floor ----------------------------------------------------------------------

class NumpyMLP:
    """The step by hand: forward GEMMs into kept buffers, ReLU in place, softmax-cross-entropy
    and its gradient fused, backward GEMMs (no input gradient for the first layer), ReLU
    backward as a mask multiply, in-place SGD. Every array is allocated once, in the first
    step, and written with ``out=`` afterwards, so a step allocates nothing large."""

    def __init__(self, params, x, y) -> None:
        self.weights = [w.copy() for w, _ in params]
        self.biases = [b.copy() for _, b in params]
        self.x, self.y = x, y
        self.rows = np.arange(x.shape[0])
        self.buffers = None

    def _allocate(self) -> None:
        batch = self.x.shape[0]
        self.acts = [np.empty((batch, w.shape[0]), np.float32) for w in self.weights]
        self.dacts = [np.empty((batch, w.shape[0]), np.float32) for w in self.weights]
        self.masks = [np.empty((batch, w.shape[0]), bool) for w in self.weights[:-1]]
        self.gw = [np.empty_like(w) for w in self.weights]
        self.gb = [np.empty_like(b) for b in self.biases]
        self.row_max = np.empty((batch, 1), np.float32)
        self.row_sum = np.empty((batch, 1), np.float32)
        self.buffers = True

    def step(self) -> float:
        if self.buffers is None:
            self._allocate()
        weights, biases, acts = self.weights, self.biases, self.acts
        last = len(weights) - 1
        # Forward.
        h = self.x
        for i, (w, b) in enumerate(zip(weights, biases)):
            out = acts[i]
            np.matmul(h, w.T, out=out)
            out += b
            if i < last:
                np.maximum(out, 0, out=out)
            h = out
        # Softmax-cross-entropy, mean over the batch; its gradient (softmax - onehot) / n.
        logits, probs = acts[last], self.dacts[last]
        np.max(logits, axis=1, keepdims=True, out=self.row_max)
        np.subtract(logits, self.row_max, out=probs)
        picked = probs[self.rows, self.y]
        np.exp(probs, out=probs)
        np.sum(probs, axis=1, keepdims=True, out=self.row_sum)
        loss = float(np.mean(np.log(self.row_sum[:, 0]) - picked))
        probs /= self.row_sum
        probs[self.rows, self.y] -= 1.0
        probs *= 1.0 / logits.shape[0]
        # Backward.
        g = probs
        for i in range(last, -1, -1):
            below = acts[i - 1] if i else self.x
            np.matmul(g.T, below, out=self.gw[i])
            np.sum(g, axis=0, out=self.gb[i])
            if i:
                dh = self.dacts[i - 1]
                np.matmul(g, weights[i], out=dh)
                np.greater(below, 0, out=self.masks[i - 1])
                np.multiply(dh, self.masks[i - 1], out=dh)
                g = dh
        # SGD: p -= lr * g, in place.
        for p, gp in zip(weights + biases, self.gw + self.gb):
            gp *= LR
            p -= gp
        return loss


# -- chainrule and PyTorch: the same code, ``lib`` being either ----------------------------

def framework_step(lib, params, x, y, compile: bool = False):
    """A model written the PyTorch way (``import chainrule as torch`` runs it unchanged);
    returns ``step() -> loss`` (its forward and loss compiled with ``compile``) and the
    model."""
    layers = []
    for i, (w, b) in enumerate(params):
        linear = lib.nn.Linear(w.shape[1], w.shape[0])
        with lib.no_grad():
            linear.weight.copy_(lib.from_numpy(w.copy()))
            linear.bias.copy_(lib.from_numpy(b.copy()))
        layers.append(linear)
        if i < len(params) - 1:
            layers.append(lib.nn.ReLU())
    model = lib.nn.Sequential(*layers)
    return sgd_training_step(lib, model, x, y, LR, compile), model


def build(name: str, size: str):
    """(step, first-layer weight as a NumPy array) for one implementation."""
    params, x, y = make_problem(size)
    if name == "numpy floor":
        floor = NumpyMLP(params, x, y)
        return floor.step, lambda: floor.weights[0]
    step, model = framework_step(framework(name), params, x, y, compiled(name))
    first = model[0].weight
    return step, lambda: first.detach().numpy()


# -- measurement ----------------------------------------------------------------------------

def rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def reset_peak() -> bool:
    """Reset the kernel's resident-set high-water mark (Linux >= 4.0); False if we cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def release_free_heap() -> None:
    """glibc's malloc_trim(0): hand the free pages of the heap back to the kernel, so the
    set-up's garbage does not sit in the resident set waiting to be reused by the steps."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def limit_threads(name: str, threads: int) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    if name.startswith("pytorch"):
        import torch
        torch.set_num_threads(threads)


def child(name: str, size: str, steps: int, threads: int, warm: int = 0) -> dict:
    """Run in a fresh process: peak RSS growth, page faults and time per step for one
    implementation."""
    limit_threads(name, threads)
    step, _ = build(name, size)
    return measure(step, steps, warm)


def measure(step: Callable, steps: int, warm: int = 0) -> dict:
    """Peak RSS (and its growth over the trimmed heap), page faults and time per step of
    ``step``, after ``warm`` unmeasured calls; meant for a process of its own."""
    for _ in range(warm):  # steps before the measurement (a compiled step's traced calls)
        step()
    gc.collect()
    release_free_heap()
    before = rss_kb()
    exact = reset_peak()
    # The first steps allocate the gradients, buffers and caches: they count for the peak,
    # not for faults and time per step.
    for _ in range(3):
        step()
    faults = minor_faults()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = time.perf_counter() - start
    faults = minor_faults() - faults
    return {"peak_growth_kb": peak_kb() - before, "peak_kb": peak_kb(), "exact_peak": exact,
            "faults_per_step": faults / steps, "ms_per_step": elapsed / steps * 1e3}


def run_child(name: str, size: str, steps: int, threads: int, warm: int = 0) -> dict:
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", name, "--size", size,
         "--steps", str(steps), "--threads", str(threads), "--warm", str(warm)],
        check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-memory", action="store_true", help="skip the subprocess runs")
    parser.add_argument("--torch-compile", action="store_true",
                        help="also time torch.compile (inductor; its first call compiles for a minute or more)")
    parser.add_argument("--child", choices=IMPLEMENTATIONS + (TORCH_COMPILED,), help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=list(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=20, help=argparse.SUPPRESS)
    parser.add_argument("--warm", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.child, args.size, args.steps, args.threads, args.warm)))
        return {}

    print_environment(configure_threads(args.threads))
    print(malloc_note())
    names = IMPLEMENTATIONS
    if args.torch_compile:
        why_not = torch_compile_works()
        print(f"torch.compile: {'runs here' if why_not is None else 'does not run here: ' + why_not}")
        names = names + ((TORCH_COMPILED,) if why_not is None else ())
    results = {}
    for size in args.sizes:
        widths, batch = SIZES[size]
        label = "-".join(map(str, widths))
        loss = check_same_math(lambda name: build(name, size), names, "the first layer",
                               f" ({size} MLP)")
        # Enough steps per timed run that one run lasts tens of milliseconds.
        steps = 5 if size == "big" else 50
        runners, faults = step_runners({name: build(name, size)[0] for name in names}, steps)
        times = interleaved(runners, args.repeats, warmup=2)
        unit, scale = ("ms/step", 1e3) if size == "big" else ("us/step", 1e6)
        medians = report(f"mlp_train {size}: {label}, batch {batch}, float32, one SGD step "
                         f"(same math checked: first loss {loss:.4f})", times, unit, scale)
        report_floor_and_faults(medians, faults)
        results[f"mlp_{size}"] = medians["chainrule"] / medians["pytorch"]
        results[f"mlp_{size}_compiled"] = medians["chainrule compiled"] / medians["pytorch"]
        if TORCH_COMPILED in medians:
            results[f"mlp_{size}_torch_compiled"] = medians[TORCH_COMPILED] / medians["pytorch"]

        if args.no_memory:
            continue
        print(f"  each in its own process ({args.threads} thread(s)): peak RSS growth during "
              f"the steps, page faults and time per step")
        count = 10 if size == "big" else 100
        isolated = {name: run_child(name, size, count, args.threads)
                    for name in IMPLEMENTATIONS if not compiled(name)}
        base = isolated["numpy floor"]["peak_growth_kb"]
        for name, r in isolated.items():
            exact = "" if r["exact_peak"] else "  (VmHWM not resettable: includes set-up)"
            print(f"    {name:<18} peak +{r['peak_growth_kb'] / 1024:7.2f} MiB "
                  f"({r['peak_growth_kb'] / max(base, 1):4.2f}x floor)   "
                  f"{r['faults_per_step']:7.0f} faults/step   {r['ms_per_step']:8.3f} ms/step{exact}")
        results[f"mlp_{size}_peak_vs_floor"] = isolated["chainrule"]["peak_growth_kb"] / max(base, 1)
        # Compiled against eager, both after two warm-up steps (the compiled step's traced
        # calls; the plan's buffers are made in the first measured step): the process's peak
        # resident set during the steps, and its growth over the heap trimmed before them.
        pair = {name: run_child(name, size, count, args.threads, warm=2) for name in ("chainrule", "chainrule compiled")}
        print("  after two warm-up steps, each in its own process:")
        for name, r in pair.items():
            print(f"    {name:<18} peak RSS {r['peak_kb'] / 1024:7.2f} MiB (+{r['peak_growth_kb'] / 1024:5.2f} MiB "
                  f"during the steps)   {r['faults_per_step']:5.1f} faults/step   {r['ms_per_step']:8.3f} ms/step")
        results[f"mlp_{size}_compiled_peak_vs_eager"] = \
            pair["chainrule compiled"]["peak_kb"] / max(pair["chainrule"]["peak_kb"], 1)
        results[f"mlp_{size}_compiled_faults_per_step"] = pair["chainrule compiled"]["faults_per_step"]
    return results


if __name__ == "__main__":
    main()
