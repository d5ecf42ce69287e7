# A two-layer graph convolutional network (Kipf & Welling, "Semi-Supervised Classification with
# Graph Convolutional Networks") written as pygcn writes it: a GraphConvolution layer with
# uniform(-stdv, stdv) weights, torch.mm for the features and torch.spmm for the sparse
# normalized adjacency, dropout, log_softmax + nll_loss, Adam with weight decay. The graph is
# random (drawn from torch's seeded generator, edges mostly within a class), its adjacency a
# sparse COO tensor: symmetric, with self-loops, normalized D^-1/2 (A + I) D^-1/2.
import io
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.nn.modules.module import Module
from torch.nn.parameter import Parameter


class GraphConvolution(Module):
    """Simple GCN layer, similar to https://arxiv.org/abs/1609.02907"""

    def __init__(self, in_features, out_features, bias=True):
        super(GraphConvolution, self).__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(torch.FloatTensor(in_features, out_features))
        if bias:
            self.bias = Parameter(torch.FloatTensor(out_features))
        else:
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1. / math.sqrt(self.weight.size(1))
        self.weight.data.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.data.uniform_(-stdv, stdv)

    def forward(self, input, adj):
        support = torch.mm(input, self.weight)
        output = torch.spmm(adj, support)
        if self.bias is not None:
            return output + self.bias
        else:
            return output

    def __repr__(self):
        return self.__class__.__name__ + ' (' + str(self.in_features) + ' -> ' + str(self.out_features) + ')'


class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout):
        super(GCN, self).__init__()
        self.gc1 = GraphConvolution(nfeat, nhid)
        self.gc2 = GraphConvolution(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        x = self.gc2(x, adj)
        return F.log_softmax(x, dim=1)


def accuracy(output, labels):
    preds = output.max(1)[1].type_as(labels)
    correct = preds.eq(labels).double()
    correct = correct.sum()
    return correct / len(labels)


def normalized_adjacency(edges, n):
    """D^-1/2 (A + I) D^-1/2 of an undirected graph, as a sparse COO tensor."""
    edges = torch.cat([edges, edges.flip(0), torch.arange(n).repeat(2, 1)], dim=1)
    adj = torch.sparse_coo_tensor(edges, torch.ones(edges.shape[1]), (n, n)).coalesce()
    adj = torch.sparse_coo_tensor(adj.indices(), torch.ones(adj._nnz()), (n, n))  # repeated edges count once
    degree = torch.sparse.sum(adj, dim=1).to_dense()
    d_inv_sqrt = degree.pow(-0.5)
    row, col = adj._indices()
    return torch.sparse_coo_tensor(adj._indices(), d_inv_sqrt[row] * adj._values() * d_inv_sqrt[col], (n, n))


torch.manual_seed(0)
n_nodes, n_features, n_classes = 60, 24, 3
labels = torch.randint(0, n_classes, (n_nodes,))
features = torch.rand(n_nodes, n_features)
features[torch.arange(n_nodes), labels * 8 + torch.randint(0, 8, (n_nodes,))] += 1.0  # a class signal
features = features / features.sum(1, keepdim=True)  # row-normalized, as pygcn's
pairs = torch.randint(0, n_nodes, (2, 240))
keep = (labels[pairs[0]] == labels[pairs[1]]) | (torch.rand(240) < 0.15)
keep &= pairs[0] != pairs[1]
adj = normalized_adjacency(pairs[:, keep], n_nodes)
print(adj.layout, adj.is_sparse, adj.shape, adj._nnz(), adj.is_coalesced())
print(f"row sums of the normalized adjacency: {torch.sparse.sum(adj, 1).to_dense()[:4]}")
same = adj.to_dense().to_sparse()
print("to_sparse round trip:", same._nnz(), torch.equal(same.to_dense(), adj.to_dense()))

idx_train, idx_val, idx_test = torch.arange(0, 20), torch.arange(20, 40), torch.arange(40, 60)
model = GCN(nfeat=n_features, nhid=16, nclass=n_classes, dropout=0.5)
print(model.gc1, model.gc2)
optimizer = optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)

for epoch in range(60):
    model.train()
    optimizer.zero_grad()
    output = model(features, adj)
    loss_train = F.nll_loss(output[idx_train], labels[idx_train])
    acc_train = accuracy(output[idx_train], labels[idx_train])
    loss_train.backward()
    optimizer.step()
    model.eval()
    output = model(features, adj)
    loss_val = F.nll_loss(output[idx_val], labels[idx_val])
    acc_val = accuracy(output[idx_val], labels[idx_val])
    if epoch % 10 == 9:
        print('Epoch: {:04d}'.format(epoch + 1),
              'loss_train: {:.4f}'.format(loss_train.item()),
              'acc_train: {:.4f}'.format(acc_train.item()),
              'loss_val: {:.4f}'.format(loss_val.item()),
              'acc_val: {:.4f}'.format(acc_val.item()))

model.eval()
output = model(features, adj)
loss_test = F.nll_loss(output[idx_test], labels[idx_test])
print("Test set results:", "loss= {:.4f}".format(loss_test.item()),
      "accuracy= {:.4f}".format(accuracy(output[idx_test], labels[idx_test]).item()))

# The adjacency and the trained weights through a checkpoint.
buffer = io.BytesIO()
torch.save({"adj": adj, "model": model.state_dict()}, buffer)
buffer.seek(0)
checkpoint = torch.load(buffer)
print("checkpoint adjacency:", checkpoint["adj"].layout, checkpoint["adj"]._nnz(),
      torch.equal(checkpoint["adj"].to_dense(), adj.to_dense()))

results = {"gc1_weight": model.gc1.weight.detach(), "gc2_bias": model.gc2.bias.detach(),
           "log_probs": output.detach()[:5], "adjacency": adj.to_dense()}
