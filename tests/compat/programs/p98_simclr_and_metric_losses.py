# Self-supervised and metric-learning losses as their reference repositories write them: SimCLR's
# info_nce_loss (features normalised with F.normalize, a cosine-similarity matrix, positives picked with a
# torch.eye bool mask and labels built by comparing arange's, the diagonal removed with masked_select/view,
# cross_entropy on logits / temperature) and the NT-Xent variant with masked_fill(-inf) and
# F.cosine_similarity over broadcast pairs; random augmentations (noise, flips by torch.where on a bernoulli
# mask); a projection head trained with SGD and a LARS-free cosine schedule; then knowledge distillation with
# nn.KLDivLoss(reduction="batchmean", log_target=True), label-smoothed cross entropy, and the pairwise losses
# nn.TripletMarginLoss (with swap), nn.TripletMarginWithDistanceLoss, nn.CosineEmbeddingLoss and
# nn.MarginRankingLoss on mined hard negatives (cdist, masked min/max).
import torch
import torch.nn as nn
import torch.nn.functional as F


def info_nce_loss(features, batch_size, n_views=2, temperature=0.07):
    labels = torch.cat([torch.arange(batch_size) for i in range(n_views)], dim=0)
    labels = (labels.unsqueeze(0) == labels.unsqueeze(1)).float()
    features = F.normalize(features, dim=1)
    similarity_matrix = torch.matmul(features, features.T)
    mask = torch.eye(labels.shape[0], dtype=torch.bool)
    labels = labels[~mask].view(labels.shape[0], -1)
    similarity_matrix = similarity_matrix[~mask].view(similarity_matrix.shape[0], -1)
    positives = similarity_matrix[labels.bool()].view(labels.shape[0], -1)
    negatives = similarity_matrix[~labels.bool()].view(similarity_matrix.shape[0], -1)
    logits = torch.cat([positives, negatives], dim=1)
    labels = torch.zeros(logits.shape[0], dtype=torch.long)
    logits = logits / temperature
    return logits, labels


def nt_xent(z_i, z_j, temperature=0.5):
    batch_size = z_i.shape[0]
    z = torch.cat((z_i, z_j), dim=0)
    sim = F.cosine_similarity(z.unsqueeze(1), z.unsqueeze(0), dim=2) / temperature
    self_mask = torch.eye(2 * batch_size, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(self_mask, float("-inf"))
    targets = torch.arange(2 * batch_size, device=z.device)
    targets = (targets + batch_size) % (2 * batch_size)
    return F.cross_entropy(sim, targets)


def augment(x):
    noisy = x + 0.1 * torch.randn_like(x)
    flip = torch.bernoulli(torch.full((x.shape[0], 1), 0.5)).bool()
    return torch.where(flip, noisy.flip(1), noisy)


class SimCLR(nn.Module):
    def __init__(self, in_dim=12, hidden=32, out_dim=8):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU())
        self.projector = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, x):
        return self.projector(self.backbone(x))


torch.manual_seed(0)
data = torch.randn(64, 12)
model = SimCLR()
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10, eta_min=0)
history = []
for epoch in range(10):
    idx = torch.randperm(64)[:16]
    images = torch.cat([augment(data[idx]), augment(data[idx])], dim=0)
    features = model(images)
    logits, labels = info_nce_loss(features, batch_size=16)
    loss = criterion(logits, labels)
    alt = nt_xent(features[:16], features[16:])
    optimizer.zero_grad()
    (loss + alt).backward()
    optimizer.step()
    scheduler.step()
    top1 = (logits.argmax(1) == labels).float().mean() * 100
    history.append([round(loss.item(), 5), round(alt.item(), 5), round(top1.item(), 3)])
print("simclr", history[0], history[-1], scheduler.get_last_lr())

# knowledge distillation: a small student mimics the frozen SimCLR backbone + a linear probe
teacher = nn.Sequential(model.backbone, nn.Linear(32, 5)).eval()
for p in teacher.parameters():
    p.requires_grad_(False)
student = nn.Sequential(nn.Linear(12, 16), nn.GELU(), nn.Linear(16, 5))
opt = torch.optim.Adam(student.parameters(), lr=1e-2)
kl = nn.KLDivLoss(reduction="batchmean", log_target=True)
hard_labels = torch.randint(0, 5, (64,))
T, alpha = 4.0, 0.7
kd_history = []
for step in range(15):
    with torch.no_grad():
        teacher_logits = teacher(data)
    student_logits = student(data)
    soft = kl(F.log_softmax(student_logits / T, dim=-1), F.log_softmax(teacher_logits / T, dim=-1)) * T * T
    hard = F.cross_entropy(student_logits, hard_labels, label_smoothing=0.1)
    loss = alpha * soft + (1 - alpha) * hard
    opt.zero_grad()
    loss.backward()
    opt.step()
    kd_history.append(round(loss.item(), 6))
elementwise = F.kl_div(F.log_softmax(student_logits, -1), F.log_softmax(teacher_logits, -1), reduction="none",
                       log_target=True)
print("kd", kd_history[0], kd_history[-1], tuple(elementwise.shape))

# metric learning on the embeddings, with batch-hard mining
torch.manual_seed(3)
classes = torch.randint(0, 4, (24,))
centers = torch.randn(4, 6) * 2
x = centers[classes] + 0.5 * torch.randn(24, 6)
embed = nn.Linear(6, 4)
opt = torch.optim.SGD(embed.parameters(), lr=0.05)
triplet = nn.TripletMarginLoss(margin=1.0, p=2, swap=True)
triplet_cos = nn.TripletMarginWithDistanceLoss(distance_function=lambda a, b: 1.0 - F.cosine_similarity(a, b),
                                               margin=0.3)
cos_emb = nn.CosineEmbeddingLoss(margin=0.2)
ranking = nn.MarginRankingLoss(margin=0.5)
metric = []
for step in range(10):
    e = embed(x)
    dist = torch.cdist(e, e)
    same = classes.unsqueeze(0) == classes.unsqueeze(1)
    hardest_pos = (dist * same.float()).max(dim=1).values
    hardest_neg = dist.masked_fill(same, float("inf")).min(dim=1).values
    pos_idx = (dist * same.float()).argmax(dim=1)
    neg_idx = dist.masked_fill(same, float("inf")).argmin(dim=1)
    l_trip = triplet(e, e[pos_idx], e[neg_idx])
    l_trip_cos = triplet_cos(e, e[pos_idx], e[neg_idx])
    pair_target = torch.where(classes == classes.roll(1), 1, -1)
    l_cos = cos_emb(e, e.roll(1, dims=0), pair_target)
    l_rank = ranking(hardest_neg, hardest_pos, torch.ones(24))
    loss = l_trip + l_trip_cos + l_cos + l_rank
    opt.zero_grad()
    loss.backward()
    opt.step()
    metric.append([round(v.item(), 6) for v in (l_trip, l_trip_cos, l_cos, l_rank)])
print("metric", metric[0], metric[-1])
functional = [F.triplet_margin_loss(e, e[pos_idx], e[neg_idx], reduction="none"),
              F.cosine_embedding_loss(e, e.roll(1, dims=0), pair_target, reduction="sum"),
              F.margin_ranking_loss(hardest_neg, hardest_pos, -torch.ones(24), reduction="none")]
results = {"history": history, "kd": kd_history, "metric": metric, "kl_elementwise": elementwise,
           "functional": functional, "embed": embed.weight.detach(), "student": student[0].weight.detach(),
           "proj": model.projector[2].weight.detach()}
