# Everyday tensor manipulation: cat/stack, indexing, view/permute/reshape, where,
# masked_fill, broadcasting.
import numpy as np
import torch

rng = np.random.default_rng(20)
a = torch.tensor(rng.standard_normal((2, 3, 4)))
b = torch.tensor(rng.standard_normal((2, 3, 4)))
r = {}
r["cat0"] = torch.cat([a, b])
r["cat_last"] = torch.cat((a, b), dim=-1)
r["stack"] = torch.stack([a, b], dim=1)
r["hstack"] = torch.hstack([a[0], b[0]])
r["vstack"] = torch.vstack((a[0], b[0]))
r["view"] = a.view(6, 4)
r["view_infer"] = a.view(-1)
r["permute"] = a.permute(2, 0, 1)
r["contiguous_view"] = a.permute(0, 2, 1).contiguous().view(2, -1)
r["reshape"] = a.transpose(0, 1).reshape(3, 8)
r["t"] = a[0].t()
r["T"] = a[1].T
r["flatten"] = a.flatten(start_dim=1)
r["unsqueeze"] = a.unsqueeze(1).shape
r["squeeze"] = a[:, :1].squeeze(1).shape
r["expand"] = a[:, :1, :].expand(-1, 3, -1)
r["repeat"] = a[0, 0].repeat(2, 3)
r["index_int"] = a[1, 2]
r["index_slice"] = a[:, 1:, ::2]
r["index_neg"] = a[..., -1]
r["index_none"] = a[None, :, 0].shape
r["index_list"] = a[[0, 1, 1], [2, 0, 1]]
r["index_tensor"] = a[:, torch.tensor([2, 0])]
mask = a > 0
r["mask_select"] = a[mask]
r["masked_select"] = torch.masked_select(a, mask)
r["where"] = torch.where(a > 0, a, torch.zeros_like(a))
r["where_scalar"] = torch.where(a > 0.5, a, 0.0)
r["where_idx"] = torch.where(a[0] > 0)
r["nonzero"] = (a[0] > 0).nonzero()
r["masked_fill"] = a.masked_fill(a < 0, float("-inf")).softmax(dim=-1)
causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
scores = torch.tensor(rng.standard_normal((2, 4, 4)))
r["causal"] = scores.masked_fill(causal, -1e9).softmax(-1)
r["tril"] = torch.tril(scores[0])
col = torch.tensor(rng.standard_normal((3, 1)))
row = torch.tensor(rng.standard_normal(4))
r["broadcast_add"] = col + row
r["broadcast_mul"] = a * row
r["outer"] = torch.outer(col.squeeze(), row)
r["pairwise_dist"] = ((col.unsqueeze(1) - col.unsqueeze(0)) ** 2).sum(-1).sqrt()
r["cdist"] = torch.cdist(a[0], b[0])
r["bmm"] = torch.bmm(a, b.transpose(1, 2))
r["matmul_bcast"] = a @ b[0].T
r["einsum"] = torch.einsum("bij,bkj->bik", a, b)
r["split"] = list(torch.split(a, [1, 3], dim=2))
r["chunk"] = list(a.chunk(2, dim=-1))
r["gather"] = a.gather(2, torch.tensor(rng.integers(0, 4, (2, 3, 2))))
r["max_dim"] = list(a.max(dim=1))
r["sort"] = list(torch.sort(a[0], dim=1, descending=True))
r["argsort"] = a[0].argsort(dim=-1)
r["cumsum"] = a.cumsum(dim=2)
r["clamp"] = a.clamp(-0.5, 0.5)
r["sum_keep"] = a.sum(dim=(0, 2), keepdim=True)
r["mean_std"] = [a.mean(), a.std(), a.var(dim=1, unbiased=False)]
r["norm"] = [a.norm(), a.norm(dim=-1), torch.linalg.norm(a[0], dim=1)]
r["any_all"] = [bool(mask.any()), bool(mask.all()), mask.sum(dim=1)]
c = a.clone()
c[0, :, 1] = 0.0
c[c > 1] = 1.0
c[1] += 10
c.add_(1).mul_(2)
r["setitem"] = c
idx = torch.arange(3)
r["arange_index"] = a[0][idx, idx]
r["one_hot"] = torch.nn.functional.one_hot(torch.tensor([0, 2, 1]), num_classes=4)
r["unique"] = torch.unique(torch.tensor([3, 1, 2, 3, 1]))
r["flip"] = torch.flip(a[0], dims=[0])
r["roll"] = torch.roll(a[0], shifts=1, dims=1)
r["diag"] = torch.diag(a[0, :, :3])
r["linspace"] = torch.linspace(0, 1, steps=5)
print({k: tuple(v.shape) for k, v in r.items() if isinstance(v, torch.Tensor)})
results = r
