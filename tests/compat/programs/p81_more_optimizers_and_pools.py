# More optimizers and pools, the way recommendation and vision code uses them: a bag-of-items
# model whose item embeddings have sparse gradients (nn.Embedding(sparse=True)) trained by
# SparseAdam while its dense layers use Adafactor; an image branch with BatchNorm layers turned
# into SyncBatchNorm (on one CPU process: the plain batch norm) and fractional max pooling, its
# windows drawn after torch.manual_seed (and fixed by _random_samples for the 3-D pool). No
# parameter has a gradient that is zero but for rounding (a bias before a batch norm, a layer
# whose constant shifts a later batch norm removes): Adafactor's normalised steps would amplify
# that noise differently in any two libraries.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(81)


class Recommender(nn.Module):
    def __init__(self):
        super().__init__()
        self.items = nn.Embedding(20, 6, padding_idx=0, sparse=True)
        self.basket_norm = nn.BatchNorm1d(6)
        self.image = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                                   nn.FractionalMaxPool2d(2, output_ratio=0.6))
        self.head = nn.Sequential(nn.Linear(6 + 4 * 4 * 4, 8), nn.Tanh(), nn.Linear(8, 1))

    def forward(self, items, images):
        basket = self.basket_norm(self.items(items).mean(dim=1))
        pixels = self.image(images).flatten(1)
        return self.head(torch.cat([basket, pixels], dim=1)).squeeze(1)


model = Recommender().double()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.4))
model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
torch.manual_seed(81)  # the pools' windows: after the layers' own initialisation draws
print(model.image[1], model.basket_norm.training)

sparse_params = [model.items.weight]
dense_params = [p for n, p in model.named_parameters() if not n.startswith("items.")]
sparse_opt = torch.optim.SparseAdam(sparse_params, lr=0.05)
dense_opt = torch.optim.Adafactor(dense_params, lr=0.02, weight_decay=0.01)

items = torch.tensor(rng.integers(0, 20, (16, 5)))
images = torch.tensor(rng.standard_normal((16, 1, 7, 7)))
target = torch.tensor(rng.standard_normal(16))

losses = []
for step in range(8):
    sparse_opt.zero_grad()
    dense_opt.zero_grad()
    loss = F.mse_loss(model(items, images), target)
    loss.backward()
    if step == 0:
        grad = model.items.weight.grad
        print("sparse grad", grad.is_sparse, grad.coalesce()._nnz())
    sparse_opt.step()
    dense_opt.step()
    losses.append(loss.item())
    print(f"step {step}: loss {loss.item():.6f}")

model.eval()
with torch.no_grad():
    scores = model(items, images)

volume = torch.tensor(rng.standard_normal((2, 3, 6, 7, 8)), requires_grad=True)
samples = torch.tensor(rng.random((2, 3, 3)))
pooled, where = F.fractional_max_pool3d(volume, 2, output_size=(3, 4, 5), return_indices=True,
                                        _random_samples=samples)
pooled.sum().backward()

state = sparse_opt.state_dict()["state"][0]
results = {
    "losses": losses,
    "scores": scores,
    "item_weights": model.items.weight.detach(),
    "step": state["step"],
    "exp_avg_sq": state["exp_avg_sq"],
    "row_var": dense_opt.state[model.image[0].weight]["row_var"],
    "running_var": model.image[1].running_var,
    "pooled": pooled.detach(),
    "where": where,
    "volume_grad": volume.grad,
}
