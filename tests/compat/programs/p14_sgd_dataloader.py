# A classifier trained for a few epochs over a DataLoader with SGD (momentum, nesterov,
# weight decay) and a StepLR schedule.
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(10)
X = torch.tensor(rng.standard_normal((120, 4)), dtype=torch.float32)
y = (X[:, 0] + X[:, 1] > 0).long() + (X[:, 2] > 1).long()
dataset = TensorDataset(X, y)
loader = DataLoader(dataset, batch_size=16, shuffle=False)
print(len(dataset), len(loader))


def make_model():
    model = nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 3))
    init = np.random.default_rng(11)
    model.load_state_dict({k: torch.tensor(init.standard_normal(tuple(v.shape)) * 0.5, dtype=torch.float32)
                           for k, v in model.state_dict().items()})
    return model


history = {}
for name, kwargs in [("momentum", dict(momentum=0.9)),
                     ("nesterov", dict(momentum=0.9, nesterov=True, weight_decay=1e-3)),
                     ("dampening", dict(momentum=0.5, dampening=0.1, weight_decay=1e-2))]:
    model = make_model()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.05, **kwargs)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    epoch_losses = []
    for epoch in range(4):
        model.train()
        running_loss = 0.0
        for inputs, labels in loader:
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * inputs.size(0)
        scheduler.step()
        epoch_losses.append(running_loss / len(loader.dataset))
        print(f"{name} epoch {epoch} loss {epoch_losses[-1]:.4f} lr {scheduler.get_last_lr()[0]:.5f}")
    history[name] = {"losses": epoch_losses, "params": [p.detach() for p in model.parameters()],
                     "lr": optimizer.param_groups[0]["lr"],
                     "momentum_buffer": optimizer.state[model[0].weight]["momentum_buffer"]}
results = history
