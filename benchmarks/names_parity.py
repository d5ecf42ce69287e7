"""names_parity: `chainrule train --dataset names` (default settings: an LSTM, 10 epochs,
Adam with a one-cycle schedule) next to the same architecture and schedule in PyTorch,
started from the same initial weights.

Prints, per seed: the bigram baseline's validation loss (counted on the same split), the
validation loss each framework reaches (nats per character), their difference, and the wall
time of each run. The targets (issue #11): chainrule beats the bigram baseline by >= 0.3
nats/char, lands within 0.05 nats/char of PyTorch, and finishes in <= 3 minutes on 2 cores.

    python benchmarks/names_parity.py                # seed 0, the LSTM
    python benchmarks/names_parity.py --seeds 0 1 2 --model gru

The two runs shuffle with their own generators, so their losses differ by what the order of
the batches does, not only by float32 rounding.
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np


def chainrule_run(config: dict) -> tuple[float, float, dict, object]:
    """(validation loss, seconds, initial state_dict as arrays, data) of the real `chainrule
    train` loop."""
    import chainrule
    from chainrule.commands.train import load_data, make_model, train

    # The model train() builds: the same global seed, the same data, the same builder.
    chainrule.manual_seed(config["seed"])
    data = load_data(config)
    initial = {k: v.numpy().copy() for k, v in make_model(config, data).state_dict().items()}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = train(config, out, log=lambda line: None, progress=False)
    return result.history[-1]["test_loss"], time.perf_counter() - start, initial, data


def pytorch_run(config: dict, initial: dict, data: object) -> tuple[float, float]:
    """(validation loss, seconds) of the same model and schedule in PyTorch."""
    import torch
    import torch.nn as nn

    class CharRNN(nn.Module):
        def __init__(self, kind: str, vocab: int, embedding: int, hidden: int, layers: int) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocab, embedding)
            self.rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](embedding, hidden, num_layers=layers,
                                                                            batch_first=True)
            self.dropout = nn.Dropout(0.0)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, tokens):
            return self.head(self.dropout(self.rnn(self.embedding(tokens))[0]))

    vocab, embedding = initial["embedding.weight"].shape
    model = CharRNN(config["model"], vocab, embedding, config["hidden"][0], len(config["hidden"]))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in initial.items()})
    x, y = torch.from_numpy(data.train_x.numpy()), torch.from_numpy(data.train_y.numpy())
    tx, ty = torch.from_numpy(data.test_x.numpy()), torch.from_numpy(data.test_y.numpy())
    batch, epochs = config["batch_size"], config["epochs"]
    steps = (len(x) + batch - 1) // batch
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config["lr"], total_steps=epochs * steps,
                                                   cycle_momentum=False)
    generator = torch.Generator().manual_seed(config["seed"])
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for index in torch.randperm(len(x), generator=generator).split(batch):
            logits = model(x[index])
            loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), y[index].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()
    with torch.no_grad():
        loss = nn.functional.cross_entropy(model(tx).reshape(-1, vocab), ty.reshape(-1)).item()
    return loss, time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lstm", choices=("rnn", "lstm", "gru"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=2, help="for both frameworks (default 2: the target's)")
    args = parser.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    from chainrule.commands.train import DATASET_DEFAULTS, DEFAULT_HIDDEN, DEFAULTS, PEAK_LR

    threadpool_limits(args.threads)
    torch.set_num_threads(args.threads)
    rows = []
    for seed in args.seeds:
        config = {**DEFAULTS, **DATASET_DEFAULTS["names"], "dataset": "names", "model": args.model, "seed": seed}
        config.update(hidden=list(DEFAULT_HIDDEN[args.model]), lr=PEAK_LR[config["optimizer"]])
        ours, our_seconds, initial, data = chainrule_run(config)
        theirs, their_seconds = pytorch_run(config, initial, data)
        bigram = data.baseline["test"]
        rows.append((seed, bigram, ours, theirs, our_seconds, their_seconds))
        print(f"seed {seed}: bigram {bigram:.4f}   chainrule {ours:.4f} ({our_seconds:.0f} s)   "
              f"PyTorch {theirs:.4f} ({their_seconds:.0f} s)   chainrule - PyTorch {ours - theirs:+.4f}   "
              f"bigram - chainrule {bigram - ours:+.4f}", flush=True)
    gain = float(np.mean([r[1] - r[2] for r in rows]))
    gap = float(np.mean([abs(r[2] - r[3]) for r in rows]))
    slowest = max(r[4] for r in rows)
    print(f"\n{args.model} on names, {len(rows)} seed(s), {args.threads} thread(s):")
    print(f"  beats the bigram baseline by {gain:.3f} nats/char (target >= 0.3): {'ok' if gain >= 0.3 else 'MISSED'}")
    print(f"  |chainrule - PyTorch| {gap:.3f} nats/char (target <= 0.05): {'ok' if gap <= 0.05 else 'MISSED'}")
    print(f"  chainrule's run: {slowest:.0f} s at most (target <= 180 s on 2 cores): "
          f"{'ok' if slowest <= 180 else 'MISSED'}")
    return {"names_gain_over_bigram": gain, "names_gap_to_pytorch": gap, "names_seconds": slowest}


if __name__ == "__main__":
    main()
