# pyGAT's graph attention network (Parameters made with torch.empty(size=...), xavier_uniform_ with
# gain=1.414, LeakyReLU scores masked by torch.where, multi-head concatenation) next to the custom-layer idiom
# of older code, nn.Parameter(torch.Tensor(out, in)) filled by reset_parameters() the way nn.Linear does it,
# a nuclear-norm penalty torch.norm(W, "nuc"), and a row normalisation written with numpy's keepdims=.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(72)


class GraphAttentionLayer(nn.Module):
    def __init__(self, in_features, out_features, dropout, alpha, concat=True):
        super(GraphAttentionLayer, self).__init__()
        self.dropout = dropout
        self.in_features = in_features
        self.out_features = out_features
        self.alpha = alpha
        self.concat = concat
        self.W = nn.Parameter(torch.empty(size=(in_features, out_features)))
        nn.init.xavier_uniform_(self.W.data, gain=1.414)
        self.a = nn.Parameter(torch.empty(size=(2 * out_features, 1)))
        nn.init.xavier_uniform_(self.a.data, gain=1.414)
        self.leakyrelu = nn.LeakyReLU(self.alpha)

    def forward(self, h, adj):
        Wh = torch.mm(h, self.W)
        e = self._prepare_attentional_mechanism_input(Wh)
        zero_vec = -9e15 * torch.ones_like(e)
        attention = torch.where(adj > 0, e, zero_vec)
        attention = F.softmax(attention, dim=1)
        attention = F.dropout(attention, self.dropout, training=self.training)
        h_prime = torch.matmul(attention, Wh)
        if self.concat:
            return F.elu(h_prime)
        return h_prime

    def _prepare_attentional_mechanism_input(self, Wh):
        Wh1 = torch.matmul(Wh, self.a[:self.out_features, :])
        Wh2 = torch.matmul(Wh, self.a[self.out_features:, :])
        e = Wh1 + Wh2.T
        return self.leakyrelu(e)

    def __repr__(self):
        return self.__class__.__name__ + " (" + str(self.in_features) + " -> " + str(self.out_features) + ")"


class GAT(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout, alpha, nheads):
        super(GAT, self).__init__()
        self.dropout = dropout
        self.attentions = [GraphAttentionLayer(nfeat, nhid, dropout=dropout, alpha=alpha, concat=True)
                           for _ in range(nheads)]
        for i, attention in enumerate(self.attentions):
            self.add_module("attention_{}".format(i), attention)
        self.out_att = GraphAttentionLayer(nhid * nheads, nclass, dropout=dropout, alpha=alpha, concat=False)

    def forward(self, x, adj):
        x = F.dropout(x, self.dropout, training=self.training)
        x = torch.cat([att(x, adj) for att in self.attentions], dim=1)
        x = F.dropout(x, self.dropout, training=self.training)
        x = F.elu(self.out_att(x, adj))
        return F.log_softmax(x, dim=1)


class OldStyleLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.Tensor(out_features, in_features))
        if bias:
            self.bias = nn.Parameter(torch.Tensor(out_features))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)


n_nodes, n_feat, n_class = 30, 12, 3
features = torch.rand(n_nodes, n_feat)
features = features / features.sum(axis=1, keepdims=True)
labels = torch.randint(0, n_class, (n_nodes,))
adj = (torch.rand(n_nodes, n_nodes) < 0.15).float()
adj = ((adj + adj.T + torch.eye(n_nodes)) > 0).float()
idx_train, idx_val = torch.arange(0, 20), torch.arange(20, 30)
print(adj.sum(), torch.Tensor(2, 3).shape, torch.Tensor(4).shape)

model = GAT(nfeat=n_feat, nhid=8, nclass=n_class, dropout=0.6, alpha=0.2, nheads=4)
print(model)
proj = OldStyleLinear(n_feat, 6)
optimizer = torch.optim.Adam(list(model.parameters()) + list(proj.parameters()), lr=0.005, weight_decay=5e-4)
history = []
for epoch in range(15):
    model.train()
    optimizer.zero_grad()
    output = model(features, adj)
    low_rank = torch.norm(proj.weight, "nuc")
    loss_train = F.nll_loss(output[idx_train], labels[idx_train]) + 1e-3 * low_rank + 1e-3 * proj(features).pow(2).mean()
    acc_train = (output[idx_train].max(1)[1] == labels[idx_train]).double().mean()
    loss_train.backward()
    optimizer.step()
    model.eval()
    output = model(features, adj)
    loss_val = F.nll_loss(output[idx_val], labels[idx_val])
    history.append([loss_train.item(), acc_train.item(), loss_val.item()])
    if epoch % 5 == 0:
        print("Epoch: {:04d}".format(epoch + 1), "loss_train: {:.4f}".format(loss_train.data.item()),
              "acc_train: {:.4f}".format(acc_train.data.item()), "loss_val: {:.4f}".format(loss_val.data.item()))
results = {"history": history, "W0": model.attention_0.W.detach(), "a_out": model.out_att.a.detach(),
           "proj_w": proj.weight.detach(), "proj_b": proj.bias.detach(), "nuc": low_rank.detach()}
