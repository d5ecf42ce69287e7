# Everyday training tricks: mixup and cutmix with Beta-drawn lambdas, label smoothing by hand, focal loss,
# knowledge distillation with KLDivLoss(batchmean) and a temperature, an EMA of the weights (lerp_ and
# torch._foreach_mul_/_foreach_add_ as timm's EMA does, and swa_utils.AveragedModel with an EMA avg fn),
# gradient accumulation with a disabled GradScaler,
# a WeightedRandomSampler and a custom collate_fn padding variable-length sequences.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence
from torch.optim.swa_utils import AveragedModel, SWALR, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

torch.manual_seed(0)
np.random.seed(0)


def mixup_data(x, y, alpha=1.0):
    lam = np.random.beta(alpha, alpha) if alpha > 0 else 1
    batch_size = x.size()[0]
    index = torch.randperm(batch_size)
    mixed_x = lam * x + (1 - lam) * x[index, :]
    y_a, y_b = y, y[index]
    return mixed_x, y_a, y_b, lam


def mixup_criterion(criterion, pred, y_a, y_b, lam):
    return lam * criterion(pred, y_a) + (1 - lam) * criterion(pred, y_b)


def rand_bbox(size, lam):
    W, H = size[2], size[3]
    cut_rat = np.sqrt(1.0 - lam)
    cut_w, cut_h = int(W * cut_rat), int(H * cut_rat)
    cx, cy = np.random.randint(W), np.random.randint(H)
    bbx1, bby1 = np.clip(cx - cut_w // 2, 0, W), np.clip(cy - cut_h // 2, 0, H)
    bbx2, bby2 = np.clip(cx + cut_w // 2, 0, W), np.clip(cy + cut_h // 2, 0, H)
    return bbx1, bby1, bbx2, bby2


class LabelSmoothingCrossEntropy(nn.Module):
    def __init__(self, smoothing=0.1):
        super().__init__()
        self.smoothing = smoothing
        self.confidence = 1.0 - smoothing

    def forward(self, x, target):
        logprobs = F.log_softmax(x, dim=-1)
        nll_loss = -logprobs.gather(dim=-1, index=target.unsqueeze(1))
        nll_loss = nll_loss.squeeze(1)
        smooth_loss = -logprobs.mean(dim=-1)
        loss = self.confidence * nll_loss + self.smoothing * smooth_loss
        return loss.mean()


class FocalLoss(nn.Module):
    def __init__(self, alpha=None, gamma=2.0, reduction="mean"):
        super().__init__()
        self.alpha, self.gamma, self.reduction = alpha, gamma, reduction

    def forward(self, inputs, targets):
        ce_loss = F.cross_entropy(inputs, targets, reduction="none", weight=self.alpha)
        pt = torch.exp(-ce_loss)
        focal_loss = (1 - pt) ** self.gamma * ce_loss
        return focal_loss.mean() if self.reduction == "mean" else focal_loss.sum()


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2):
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * loss).mean()


def distillation_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.7):
    soft = nn.KLDivLoss(reduction="batchmean")(F.log_softmax(student_logits / T, dim=1),
                                               F.softmax(teacher_logits / T, dim=1)) * (T * T)
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1.0 - alpha) * hard


def make_cnn(width):
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(width, 4))


images = torch.randn(32, 3, 8, 8)
labels = torch.randint(0, 4, (32,))
teacher = make_cnn(16).eval()
student = make_cnn(6)
ema_student = AveragedModel(student, multi_avg_fn=get_ema_multi_avg_fn(0.9))
ema_params = [p.detach().clone() for p in student.parameters()]
optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
scaler = torch.cuda.amp.GradScaler(enabled=False)
smooth = LabelSmoothingCrossEntropy(0.1)
focal = FocalLoss(alpha=torch.tensor([1.0, 2.0, 0.5, 1.0]))
accum = 2
log = []
for step in range(8):
    xb, yb = images[(step % 2) * 16:(step % 2 + 1) * 16], labels[(step % 2) * 16:(step % 2 + 1) * 16]
    if step % 3 == 0:
        xb, ya, yb2, lam = mixup_data(xb, yb, 0.4)
        loss = mixup_criterion(smooth, student(xb), ya, yb2, lam)
    elif step % 3 == 1:
        lam = np.random.beta(1.0, 1.0)
        rand_index = torch.randperm(xb.size()[0])
        bbx1, bby1, bbx2, bby2 = rand_bbox(xb.size(), lam)
        xb = xb.clone()
        xb[:, :, bbx1:bbx2, bby1:bby2] = xb[rand_index, :, bbx1:bbx2, bby1:bby2]
        lam = 1 - ((bbx2 - bbx1) * (bby2 - bby1) / (xb.size()[-1] * xb.size()[-2]))
        out = student(xb)
        loss = focal(out, yb) * lam + focal(out, yb[rand_index]) * (1.0 - lam)
    else:
        with torch.no_grad():
            t_logits = teacher(xb)
        loss = distillation_loss(student(xb), t_logits, yb)
    scaler.scale(loss / accum).backward()
    if (step + 1) % accum == 0:
        scaler.unscale_(optimizer)
        total_norm = torch.nn.utils.clip_grad_norm_(student.parameters(), max_norm=1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        ema_student.update_parameters(student)
        with torch.no_grad():
            for e, p in zip(ema_params, student.parameters()):
                e.lerp_(p.detach(), 0.1)
        log.append([loss.item(), float(total_norm), scaler.get_scale()])
    print(f"step {step} loss {loss.item():.6f}")
print(log)

ema2 = [p.detach().clone() for p in student.parameters()]
torch._foreach_mul_(ema2, 0.5)
torch._foreach_add_(ema2, [p.detach() for p in student.parameters()], alpha=0.5)
bce_focal = sigmoid_focal_loss(torch.randn(8, 3, requires_grad=True), (torch.rand(8, 3) > 0.5).float())
print(bce_focal)
swa_sched = SWALR(optimizer, swa_lr=0.01, anneal_epochs=2)
lrs = []
for _ in range(3):
    swa_sched.step()
    lrs.append(optimizer.param_groups[0]["lr"])
print(lrs, ema_student.n_averaged)


class Sentences(Dataset):
    def __init__(self, n=20):
        g = torch.Generator().manual_seed(7)
        self.items = [(torch.randint(1, 30, (int(torch.randint(2, 7, (1,), generator=g)),), generator=g), i % 3)
                      for i in range(n)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def collate_batch(batch):
    seqs, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in seqs])
    padded = pad_sequence(seqs, batch_first=True, padding_value=0)
    return padded, lengths, torch.tensor(labels, dtype=torch.long)


ds = Sentences()
class_counts = torch.bincount(torch.tensor([label for _, label in ds.items]))
weights = 1.0 / class_counts.float()
sample_weights = weights[torch.tensor([label for _, label in ds.items])]
sampler = WeightedRandomSampler(sample_weights, num_samples=12, replacement=True,
                                generator=torch.Generator().manual_seed(3))
loader = DataLoader(ds, batch_size=4, sampler=sampler, collate_fn=collate_batch)
batches = []
for padded, lengths, lab in loader:
    print(padded.shape, lengths.tolist(), lab.tolist())
    batches.append([padded, lengths, lab])
results = {"log": log, "ema": ema_params, "ema2": ema2, "swa": [p.detach() for p in ema_student.parameters()],
           "focal": bce_focal.detach(), "lrs": lrs, "batches": batches, "weights": sample_weights}
