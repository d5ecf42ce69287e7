# A graph convolution on a CSR adjacency (torch.sparse_csr_tensor from a scipy-style
# indptr/indices/data triple): the normalized adjacency times node features, trained for a few
# steps, the gradient reaching the features, the weights and the edge weights.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(11)
n, d, classes = 12, 5, 3
dense = (rng.random((n, n)) < 0.25).astype(np.float32)
dense = np.maximum(dense, dense.T) + np.eye(n, dtype=np.float32)
degree = dense.sum(1)
normalized = dense / np.sqrt(degree[:, None] * degree[None, :])
rows, cols = np.nonzero(normalized)
indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])

edge_weight = torch.tensor(normalized[rows, cols], requires_grad=True)


def adjacency():
    return torch.sparse_csr_tensor(torch.tensor(indptr), torch.tensor(cols), edge_weight, (n, n))


adj = adjacency()
print(adj.layout, adj.is_sparse_csr, adj.shape, adj._nnz())
print(adj.crow_indices()[:5], adj.col_indices()[:5])

features = torch.tensor(rng.standard_normal((n, d)), dtype=torch.float32, requires_grad=True)
labels = torch.tensor(rng.integers(0, classes, n))
layer1, layer2 = nn.Linear(d, 8), nn.Linear(8, classes)
with torch.no_grad():
    for p in list(layer1.parameters()) + list(layer2.parameters()):
        p.copy_(torch.tensor(rng.standard_normal(p.shape) * 0.3, dtype=torch.float32))
optimizer = torch.optim.Adam(list(layer1.parameters()) + list(layer2.parameters()), lr=0.05)
losses = []
for step in range(15):
    optimizer.zero_grad()
    adj = adjacency()
    hidden = torch.relu(adj @ layer1(features))
    logits = torch.sparse.mm(adj, layer2(hidden))
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"loss {losses[0]:.5f} -> {losses[-1]:.5f}")
results = {"losses": losses, "edge_grad": edge_weight.grad, "feature_grad": features.grad,
           "dense_check": (adj.to_dense() - torch.tensor(normalized)).abs().max(),
           "coo": adj.to_sparse_coo().to_dense()}
