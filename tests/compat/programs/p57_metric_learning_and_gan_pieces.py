# Pieces of well-known PyTorch programs added this stop, written as their authors write them:
# a siamese embedding trained with a triplet margin loss and NAdam; an SNGAN-style critic with
# spectral normalisation (both forms) and a hinge loss; a text classifier on an EmbeddingBag
# with offsets (PyTorch's tutorial); a residual stack with activation checkpointing; ViT
# patches cut with Tensor.unfold; GNN-style neighbour pooling with scatter_reduce.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parametrizations, spectral_norm
from torch.utils.checkpoint import checkpoint

rng = np.random.default_rng(57)


def init_(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.tensor(rng.uniform(-0.3, 0.3, tuple(p.shape)), dtype=p.dtype))
    return module


# 1. Siamese embedding, triplet margin loss, NAdam.
embed = init_(nn.Sequential(nn.Linear(6, 8), nn.RReLU(), nn.Linear(8, 4))).double().eval()
triplet = nn.TripletMarginLoss(margin=0.5, swap=True)
optimizer = torch.optim.NAdam(embed.parameters(), lr=0.05, weight_decay=0.01)
anchors, positives, negatives = (torch.tensor(rng.standard_normal((10, 6))) for _ in range(3))
triplet_losses = []
for _ in range(5):
    optimizer.zero_grad()
    loss = triplet(embed(anchors), embed(positives), embed(negatives))
    loss = loss + F.cosine_embedding_loss(embed(anchors), embed(positives), torch.ones(10))
    loss.backward()
    optimizer.step()
    triplet_losses.append(loss.item())
print("triplet", [round(v, 6) for v in triplet_losses])

# 2. A critic with spectral normalisation, hinge loss, RAdam.
critic = nn.Sequential(spectral_norm(init_(nn.Conv2d(1, 4, 3, stride=2))), nn.LeakyReLU(0.2), nn.Flatten(),
                       parametrizations.spectral_norm(init_(nn.Linear(4 * 3 * 3, 1)))).double()
for layer in (critic[0], critic[3]):  # the power iteration starts from the same vectors in both runs
    names = ("weight_u", "weight_v") if hasattr(layer, "weight_u") else ("parametrizations.weight.0._u",
                                                                         "parametrizations.weight.0._v")
    for name in names:
        owner = layer
        *path, last = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        buffer = getattr(owner, last)
        with torch.no_grad():
            buffer.copy_(F.normalize(torch.tensor(rng.standard_normal(tuple(buffer.shape))), dim=0))
critic_optimizer = torch.optim.RAdam(critic.parameters(), lr=0.01, betas=(0.5, 0.9))
real, fake = torch.tensor(rng.standard_normal((6, 1, 8, 8))), torch.tensor(rng.standard_normal((6, 1, 8, 8)))
critic_losses = []
for _ in range(4):
    critic_optimizer.zero_grad()
    loss = F.relu(1.0 - critic(real)).mean() + F.relu(1.0 + critic(fake)).mean()
    loss.backward()
    critic_optimizer.step()
    critic_losses.append(loss.item())
print("critic", [round(v, 6) for v in critic_losses], sorted(critic.state_dict())[:3])

# 3. PyTorch's text-classification tutorial model: EmbeddingBag over concatenated token lists.
class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        with torch.no_grad():
            self.embedding.weight.copy_(torch.tensor(rng.uniform(-initrange, initrange, (30, 8)), dtype=torch.float32))
            self.fc.weight.copy_(torch.tensor(rng.uniform(-initrange, initrange, (4, 8)), dtype=torch.float32))
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))


text_model = TextClassificationModel(30, 8, 4)
text_optimizer = torch.optim.SGD(text_model.parameters(), lr=5.0)
text_losses = []
for _ in range(3):
    lengths = rng.integers(1, 6, 5)
    text = torch.tensor(rng.integers(0, 30, int(lengths.sum())))
    offsets = torch.tensor(np.concatenate([[0], np.cumsum(lengths)[:-1]]))
    label = torch.tensor(rng.integers(0, 4, 5))
    text_optimizer.zero_grad()
    loss = F.cross_entropy(text_model(text, offsets), label)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(text_model.parameters(), 0.1)
    text_optimizer.step()
    text_losses.append(loss.item())
print("text", [round(v, 5) for v in text_losses])

# 4. A residual stack with activation checkpointing, weight-normed layers, Adamax.
blocks = nn.ModuleList([parametrizations.weight_norm(init_(nn.Linear(5, 5))) for _ in range(3)]).double()
stack_optimizer = torch.optim.Adamax(blocks.parameters(), lr=0.02)
x = torch.tensor(rng.standard_normal((4, 5)), requires_grad=True)
for step in range(3):
    stack_optimizer.zero_grad()
    h = x
    for block in blocks:
        h = h + checkpoint(lambda t, b=block: torch.tanh(b(t)), h, use_reentrant=False)
    loss = (h ** 2).mean()
    loss.backward()
    stack_optimizer.step()
print("stack", round(loss.item(), 8), x.grad.sum().item())

# 5. ViT patches with unfold; GNN neighbour pooling with scatter_reduce.
images = torch.tensor(rng.standard_normal((2, 3, 8, 8)), requires_grad=True)
patches = images.unfold(2, 4, 4).unfold(3, 4, 4)  # (B, C, 2, 2, 4, 4)
tokens = patches.permute(0, 2, 3, 1, 4, 5).reshape(2, 4, 3 * 16)
node_features = torch.tensor(rng.standard_normal((6, 3)), requires_grad=True)
edges = torch.tensor([[0, 1, 1, 2, 3, 4, 5, 5], [1, 0, 2, 1, 4, 3, 0, 4]])
messages = node_features[edges[0]]
pooled = torch.zeros(6, 3, dtype=torch.float64).scatter_reduce(
    0, edges[1].unsqueeze(1).expand(-1, 3), messages, reduce="amax", include_self=False)
mean_pooled = torch.zeros(6, 3, dtype=torch.float64).scatter_reduce(
    0, edges[1].unsqueeze(1).expand(-1, 3), messages, reduce="mean")
(tokens.sum() + pooled.sum() + (mean_pooled ** 2).sum()).backward()
print("patches", tuple(tokens.shape), images.grad.sum().item(), node_features.grad.tolist())

results = {"triplet": torch.tensor(triplet_losses), "critic": torch.tensor(critic_losses),
           "text": torch.tensor(text_losses), "stack": [p.detach() for p in blocks.parameters()],
           "x_grad": x.grad, "pooled": pooled.detach(), "nodes": node_features.grad}
