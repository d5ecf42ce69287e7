# A bag-of-words classifier: Embedding, mean over the tokens (ignoring padding), Linear.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PAD = 0


class TextClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.fc = nn.Linear(embed_dim, num_classes)

    def forward(self, tokens):
        mask = (tokens != PAD).unsqueeze(-1).float()
        emb = self.embedding(tokens) * mask
        pooled = emb.sum(dim=1) / mask.sum(dim=1).clamp(min=1)
        return self.fc(pooled)


rng = np.random.default_rng(9)
model = TextClassifier(20, 4, 3)
print(model.embedding.weight[PAD].abs().sum().item())
with torch.no_grad():
    model.embedding.weight.copy_(torch.tensor(rng.standard_normal((20, 4)), dtype=torch.float32))
    model.embedding.weight[PAD].fill_(0)
    model.fc.weight.copy_(torch.tensor(rng.standard_normal((3, 4)), dtype=torch.float32))
    model.fc.bias.zero_()
tokens = torch.tensor([[3, 5, 7, 0, 0], [1, 2, 0, 0, 0], [4, 4, 4, 9, 19], [6, 0, 0, 0, 0]])
labels = torch.tensor([0, 2, 1, 2])
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for epoch in range(10):
    optimizer.zero_grad()
    logits = model(tokens)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    optimizer.step()
print(f"loss {loss.item():.5f}", model.embedding.weight.grad[PAD].abs().sum().item())
pred = model(tokens).argmax(dim=1)
results = {"emb": model.embedding.weight.detach(), "fc": model.fc.weight.detach(), "pred": pred,
           "loss": loss.item(), "pad_grad": model.embedding.weight.grad[PAD]}
