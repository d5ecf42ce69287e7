# A small CNN (Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear) trained a few steps
# on random 1x12x12 images.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=3, stride=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(8 * 2 * 2, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))   # 4 x 6 x 6
        x = self.pool(F.relu(self.conv2(x)))             # 8 x 2 x 2
        x = self.flatten(x)
        return self.fc(x)


rng = np.random.default_rng(21)
model = SmallCNN()
state = model.state_dict()
for k, v in state.items():
    if v.dtype == torch.float32 and not k.endswith(("running_mean", "running_var")):
        state[k] = torch.from_numpy((rng.standard_normal(tuple(v.shape)) * 0.3).astype(np.float32))
model.load_state_dict(state)
images = torch.from_numpy(rng.standard_normal((16, 1, 12, 12)).astype(np.float32))
labels = torch.from_numpy(rng.integers(0, 4, 16))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.CrossEntropyLoss()
losses = []
for step in range(5):
    model.train()
    optimizer.zero_grad()
    outputs = model(images)
    loss = criterion(outputs, labels)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    print(f"step {step} loss {loss.item():.4f}")
model.eval()
with torch.no_grad():
    logits = model(images[:4])
print(logits.shape, model.conv1.weight.grad.shape)
results = {"losses": losses, "logits": logits, "conv1": model.conv1.weight.detach(),
           "conv2_grad": model.conv2.weight.grad, "bn_mean": model.bn1.running_mean,
           "bn_var": model.bn1.running_var, "fc": model.fc.weight.detach()}
