"""debug_overhead: what `chainrule debug` costs a training step.

The digits MLP of the README (Flatten, Linear 64-128, ReLU, Linear 128-10, Adam lr 1e-3,
batch 32 of the embedded digits), one training step (zero_grad, forward, cross-entropy,
backward, step) timed three ways, interleaved in one process:

- ``off``:       plain chainrule (debug mode never started in this process: nothing is watched);
- ``recording``: a :class:`chainrule.debug.Recorder` running (call site, activation, NaN and
  gradient-size records per op and per backward node), no checks;
- ``debug``:     a full :class:`chainrule.debug.Session`, as `chainrule debug` runs a script:
  recording, plus the check of every parameter at each optimizer step.

The ratios to ``off`` are what debug mode costs; the target is debug ≤ 2x.  (That debug
mode costs nothing while it is off is checked on instruction counts, not times: see
benchmarks/README.md.)
"""
from __future__ import annotations

import argparse
import io

from _harness import configure_threads, interleaved, print_environment, report

BATCH = 32


def make_step(steps: int):
    """A function running ``steps`` training steps of a fresh digits MLP."""
    import chainrule as torch
    from chainrule import nn

    images, labels = torch.datasets.digits()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = [(images[i:i + BATCH], labels[i:i + BATCH]) for i in range(0, BATCH * steps, BATCH)]

    def run() -> None:
        for batch, target in batches:
            loss = nn.functional.cross_entropy(model(batch), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return run


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40, help="training steps per timed round")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    from chainrule.debug import Recorder, Session

    print_environment(configure_threads(args.threads))
    plain, recorded, debugged = (make_step(args.steps) for _ in range(3))
    session = Session(out=io.StringIO())

    def with_recorder() -> None:
        with Recorder():
            recorded()

    def with_session() -> None:
        with session:
            debugged()

    times = interleaved({"off": plain, "recording": with_recorder, "debug": with_session}, args.repeats)
    medians = report(f"debug_overhead: digits MLP training step, batch {BATCH}",
                     {name: [t / args.steps for t in values] for name, values in times.items()},
                     "us/step", 1e6, baseline="off")
    return {"debug_recording": medians["recording"] / medians["off"],
            "debug_session": medians["debug"] / medians["off"]}


if __name__ == "__main__":
    main()
