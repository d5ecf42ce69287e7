# Save model and optimizer state dicts mid-training, load them into fresh objects, and
# continue: the same numbers as training without the interruption.
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

rng = np.random.default_rng(18)
X = torch.tensor(rng.standard_normal((40, 3)), dtype=torch.float32)
Y = torch.tensor(rng.standard_normal((40, 1)), dtype=torch.float32)
init = {"0.weight": rng.standard_normal((8, 3)), "0.bias": rng.standard_normal(8),
        "2.weight": rng.standard_normal((1, 8)), "2.bias": rng.standard_normal(1)}


def build():
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    model.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in init.items()})
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    return model, optimizer


def train(model, optimizer, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        loss.backward()
        optimizer.step()
    return loss.item()


model, optimizer = build()
train(model, optimizer, 10)
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "checkpoint.pt")
    torch.save({"epoch": 10, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": 0.5}, path)
    weights_path = os.path.join(tmp, "weights.pth")
    torch.save(model.state_dict(), weights_path)
    last_uninterrupted = train(model, optimizer, 10)

    model2, optimizer2 = build()
    checkpoint = torch.load(path)
    model2.load_state_dict(checkpoint["model_state_dict"])
    optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
    epoch = checkpoint["epoch"]
    model2.train()
    last_resumed = train(model2, optimizer2, 10)

    model3 = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    result = model3.load_state_dict(torch.load(weights_path))
    print("missing", list(result.missing_keys), "unexpected", list(result.unexpected_keys))
    model3.eval()

print(epoch, checkpoint["loss"], last_uninterrupted == last_resumed)
saved_opt = checkpoint["optimizer_state_dict"]
print(sorted(saved_opt.keys()), sorted(saved_opt["state"].keys()), saved_opt["param_groups"][0]["params"])
results = {"same": [torch.equal(a, b) for a, b in zip(model.parameters(), model2.parameters())],
           "params": [p.detach() for p in model2.parameters()], "last": last_resumed,
           "model3": [p.detach() for p in model3.parameters()],
           "opt_state_step": optimizer2.state_dict()["state"][0]["step"],
           "lr": saved_opt["param_groups"][0]["lr"]}
