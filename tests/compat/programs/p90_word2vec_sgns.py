# Skip-gram with negative sampling, the way the word2vec tutorials write it: a tiny corpus, subsampling of
# frequent words, a unigram^0.75 noise distribution sampled with torch.multinomial, two nn.Embedding tables with
# sparse=True trained by optim.SparseAdam, scores by torch.bmm, F.logsigmoid losses, nearest neighbours by
# cosine similarity and topk; the environment line such scripts print first (torch.version.cuda).
import collections

import torch
import torch.nn as nn
import torch.nn.functional as F

print("cuda:", torch.version.cuda, "available:", torch.cuda.is_available())
torch.manual_seed(0)
text = ("the quick brown fox jumps over the lazy dog the dog sleeps the fox runs quick and the brown dog "
        "barks at the quick fox while the lazy cat sleeps near the brown dog and the cat runs").split()
counts = collections.Counter(text)
vocab = sorted(counts, key=lambda w: (-counts[w], w))
w2i = {w: i for i, w in enumerate(vocab)}
ids = torch.tensor([w2i[w] for w in text])
freq = torch.tensor([counts[w] for w in vocab], dtype=torch.float) / len(text)
keep_prob = ((freq / 1e-2).sqrt() + 1) * (1e-2 / freq)
keep = torch.rand(len(ids)) < keep_prob[ids]
train_ids = ids[keep]
print(len(vocab), len(ids), len(train_ids))
window = 2
pairs = [(train_ids[i].item(), train_ids[j].item()) for i in range(len(train_ids))
         for j in range(max(0, i - window), min(len(train_ids), i + window + 1)) if j != i]
centers = torch.tensor([c for c, _ in pairs])
contexts = torch.tensor([o for _, o in pairs])
noise = freq ** 0.75
noise = noise / noise.sum()


class SkipGram(nn.Module):
    def __init__(self, vocab_size, dim):
        super().__init__()
        self.in_embed = nn.Embedding(vocab_size, dim, sparse=True)
        self.out_embed = nn.Embedding(vocab_size, dim, sparse=True)
        initrange = 0.5 / dim
        self.in_embed.weight.data.uniform_(-initrange, initrange)
        self.out_embed.weight.data.zero_()

    def forward(self, center, context, negatives):
        v = self.in_embed(center)
        u = self.out_embed(context)
        u_neg = self.out_embed(negatives)
        pos = F.logsigmoid((v * u).sum(dim=1))
        neg = F.logsigmoid(-torch.bmm(u_neg, v.unsqueeze(2)).squeeze(2)).sum(dim=1)
        return -(pos + neg).mean()


model = SkipGram(len(vocab), 8)
optimizer = torch.optim.SparseAdam(list(model.parameters()), lr=0.05)
losses = []
for epoch in range(6):
    perm = torch.randperm(len(centers))
    for start in range(0, len(perm), 32):
        batch = perm[start:start + 32]
        negatives = torch.multinomial(noise, len(batch) * 3, replacement=True).view(len(batch), 3)
        loss = model(centers[batch], contexts[batch], negatives)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    losses.append(loss.item())
    print(f"epoch {epoch} loss {loss.item():.5f}")

emb = F.normalize(model.in_embed.weight.detach(), dim=1)
sims = emb @ emb.T
sims.fill_diagonal_(-1)
top = sims.topk(2, dim=1)
neighbours = {vocab[i]: [vocab[j] for j in top.indices[i].tolist()] for i in range(4)}
print(neighbours)
results = {"losses": losses, "in_embed": model.in_embed.weight.detach(), "out_embed": model.out_embed.weight.detach(),
           "neighbours": neighbours, "keep_prob": keep_prob, "state_step": optimizer.state[model.in_embed.weight]["step"]}
