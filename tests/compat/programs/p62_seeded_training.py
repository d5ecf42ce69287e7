# The everyday PyTorch script with nothing but torch.manual_seed for reproducibility: data from
# torch.randn/torch.randint, default layer initialisation, dropout while training, a shuffled
# DataLoader, random_split into train and validation, Adam, and a small CNN whose weights come
# from kaiming_normal_ and trunc_normal_. Every random number is torch's own, so the losses and
# the weights must be PyTorch's.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)  # (so that 40 Adam steps print the same 4 digits)

X = torch.randn(200, 12)
true_w = torch.randn(12, 3)
y = (X @ true_w + 0.1 * torch.randn(200, 3)).argmax(dim=1)
train_set, val_set = random_split(TensorDataset(X, y), [160, 40])
train_loader = DataLoader(train_set, batch_size=16, shuffle=True)
val_loader = DataLoader(val_set, batch_size=40)

model = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 32), nn.GELU(),
                      nn.Dropout(0.1), nn.Linear(32, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(4):
    model.train()
    total = 0.0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    model.eval()
    with torch.no_grad():
        correct = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in val_loader)
    print(f"epoch {epoch}: train loss {total / len(train_set):.4f}, val accuracy {correct}/{len(val_set)}")


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.drop = nn.Dropout2d(0.25)
        self.fc = nn.Linear(8 * 2 * 2, 2)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = self.drop(F.max_pool2d(F.relu(self.conv2(x)), 2))
        return self.fc(torch.flatten(x, 1))


cnn = SmallCNN()
images = torch.rand(8, 1, 8, 8)
labels = torch.randint(0, 2, (8,))
sgd = torch.optim.SGD(cnn.parameters(), lr=0.1, momentum=0.9)
for step in range(5):
    sgd.zero_grad()
    loss = F.cross_entropy(cnn(images), labels)
    loss.backward()
    sgd.step()
    print(f"cnn step {step}: {loss.item():.5f}")

results = {"last_layer": model[-1].weight.detach(), "cnn_fc": cnn.fc.weight.detach(),
           "val_indices": list(val_set.indices), "after": torch.rand(3)}
