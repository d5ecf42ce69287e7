# Train a classifier in mini-batches taken in an explicit order, then evaluate it:
# model.eval(), torch.no_grad(), argmax(dim=1), accuracy, a confusion matrix.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(19)
centers = rng.standard_normal((3, 2)) * 3
labels_np = rng.integers(0, 3, 150)
points = centers[labels_np] + rng.standard_normal((150, 2))
X_train = torch.tensor(points[:120], dtype=torch.float32)
y_train = torch.tensor(labels_np[:120])
X_test = torch.tensor(points[120:], dtype=torch.float32)
y_test = torch.tensor(labels_np[120:])


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(F.relu(self.hidden(x)))


model = Classifier()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.5))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
orders = [rng.permutation(120) for _ in range(3)]
for epoch, order in enumerate(orders):
    model.train()
    perm = torch.from_numpy(order)
    for i in range(0, 120, 20):
        idx = perm[i:i + 20]
        loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        outputs = model(X_test)
        _, predicted = torch.max(outputs.data, 1)
        total += y_test.size(0)
        correct += (predicted == y_test).sum().item()
    print(f"epoch {epoch}: test accuracy {100 * correct / total:.2f}%  ({correct}/{total})")

with torch.no_grad():
    probs = F.softmax(model(X_test), dim=1)
preds = probs.argmax(dim=1)
acc = (preds == y_test).float().mean()
confusion = torch.zeros(3, 3, dtype=torch.long)
for t, p in zip(y_test, preds):
    confusion[t, p] += 1
print(confusion)
print(acc, probs.requires_grad, type(correct).__name__)
top2 = probs.topk(2, dim=1)
results = {"probs": probs, "preds": preds, "acc": acc, "confusion": confusion, "correct": correct,
           "top2_values": top2.values, "top2_indices": top2.indices}
