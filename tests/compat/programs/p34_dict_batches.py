# A Dataset returning dicts and tuples of mixed types; the default collate stacks them.
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class Samples(Dataset):
    def __init__(self):
        rng = np.random.default_rng(31)
        self.features = rng.standard_normal((10, 3)).astype(np.float32)
        self.labels = rng.integers(0, 4, 10)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"x": torch.from_numpy(self.features[i]), "y": int(self.labels[i]),
                "w": float(i) / 10, "meta": (i, np.float32(i) * 2), "name": f"item{i}"}


loader = DataLoader(Samples(), batch_size=4, shuffle=False)
batches = []
for batch in loader:
    print(sorted(batch.keys()), batch["x"].shape, batch["y"].dtype, batch["w"].dtype, batch["name"])
    batches.append({"x": batch["x"], "y": batch["y"], "w": batch["w"], "meta": list(batch["meta"]),
                    "name": batch["name"]})
pairs = DataLoader([(np.arange(3) * i, i) for i in range(5)], batch_size=2)
pair_batches = [list(b) for b in pairs]
arrays = DataLoader(np.arange(12, dtype=np.float64).reshape(6, 2), batch_size=4)
array_batches = [b for b in arrays]
print(len(pair_batches), [b.dtype for b in array_batches])
results = {"batches": batches, "pairs": pair_batches, "arrays": array_batches}
