# The common losses, as modules and as functions, with their options.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(17)
logits = torch.tensor(rng.standard_normal((6, 4)), requires_grad=True)
target = torch.tensor([0, 3, 1, -100, 2, 3])
out = {}

ce = nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=-100)
out["ce_smooth_ignore"] = ce(logits, target)
out["ce_weight"] = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.0], dtype=torch.float64),
                                       ignore_index=3)(logits, target.clamp(min=0))
out["ce_sum"] = F.cross_entropy(logits, target.clamp(min=0), reduction="sum")
out["ce_none"] = F.cross_entropy(logits, target.clamp(min=0), reduction="none", label_smoothing=0.2)
probs_target = torch.softmax(torch.tensor(rng.standard_normal((6, 4))), dim=1)
out["ce_probs"] = F.cross_entropy(logits, probs_target)
out["nll"] = nn.NLLLoss()(F.log_softmax(logits, dim=1), target.clamp(min=0))
out["nll_ignore"] = F.nll_loss(torch.log_softmax(logits, 1), target, ignore_index=-100)

z = torch.tensor(rng.standard_normal((5, 3)), requires_grad=True)
t = torch.tensor(rng.integers(0, 2, (5, 3)), dtype=torch.float64)
out["bce_logits"] = nn.BCEWithLogitsLoss()(z, t)
out["bce_logits_pos_weight"] = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))(z, t)
out["bce"] = nn.BCELoss()(torch.sigmoid(z), t)
out["bce_weighted"] = F.binary_cross_entropy(torch.sigmoid(z), t, weight=torch.full((5, 3), 0.5, dtype=torch.float64))

a = torch.tensor(rng.standard_normal((4, 3)), requires_grad=True)
b = torch.tensor(rng.standard_normal((4, 3)))
out["mse"] = nn.MSELoss()(a, b)
out["mse_sum"] = nn.MSELoss(reduction="sum")(a, b)
out["l1"] = nn.L1Loss()(a, b)
out["smooth_l1"] = nn.SmoothL1Loss(beta=0.5)(a, b)
out["huber"] = nn.HuberLoss(delta=0.7)(a, b)

log_p = F.log_softmax(torch.tensor(rng.standard_normal((4, 5)), requires_grad=True), dim=1)
q = F.softmax(torch.tensor(rng.standard_normal((4, 5))), dim=1)
out["kl_batchmean"] = nn.KLDivLoss(reduction="batchmean")(log_p, q)
out["kl_log_target"] = F.kl_div(log_p, q.log(), reduction="sum", log_target=True)

total = sum(v.sum() for v in out.values())
total.backward()
for k, v in out.items():
    print(f"{k:22s} {v.detach().sum().item():.8f}")
results = {k: v.detach() for k, v in out.items()}
results["grads"] = [logits.grad, z.grad, a.grad]
