# The data pipeline pieces: TensorDataset indexing, random_split lengths, DataLoader with
# drop_last and a collate function, a Subset, and an iterator over batches.
import numpy as np
import torch
from torch.utils.data import DataLoader, Subset, TensorDataset, random_split

rng = np.random.default_rng(27)
features = torch.tensor(rng.standard_normal((23, 3)), dtype=torch.float32)
targets = torch.arange(23)
ds = TensorDataset(features, targets)
x0, y0 = ds[0]
print(len(ds), x0.shape, y0, type(ds[1:3]).__name__, ds[1:3][1])
loader = DataLoader(ds, batch_size=5, drop_last=True)
sizes = [xb.shape[0] for xb, _ in loader]
print(len(loader), sizes)
loader2 = DataLoader(ds, batch_size=10)
batches = [yb for _, yb in loader2]
first_x, first_y = next(iter(loader2))


def collate(batch):
    xs, ys = zip(*batch)
    return torch.stack(xs).sum(dim=1), torch.tensor(ys).float()


summed = [b for b in DataLoader(ds, batch_size=8, collate_fn=collate)]
sub = Subset(ds, [4, 2, 9])
sub_batch = next(iter(DataLoader(sub, batch_size=3)))
train_set, val_set = random_split(ds, [18, 5])
print(len(train_set), len(val_set))
results = {"sizes": sizes, "batches": batches, "first_x": first_x, "first_y": first_y,
           "summed": [list(b) for b in summed], "sub": list(sub_batch), "split": [len(train_set), len(val_set)],
           "n_loader2": len(loader2)}
