# The other schedulers: MultiStepLR, ExponentialLR, LambdaLR warmup, LinearLR + SequentialLR,
# CosineAnnealingWarmRestarts, scheduler state_dict, add_param_group, setting lr by hand.
import torch
import torch.nn as nn
from torch.optim import lr_scheduler


def lrs(make_sched, steps=12, opt_cls=torch.optim.SGD, **opt_kwargs):
    model = nn.Linear(2, 1)
    opt = opt_cls(model.parameters(), lr=0.1, **opt_kwargs)
    sched = make_sched(opt)
    out = []
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(round(opt.param_groups[0]["lr"], 12))
    return out, sched


r = {}
r["multistep"], _ = lrs(lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, 7], gamma=0.3))
r["exponential"], _ = lrs(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9))
r["lambda_warmup"], _ = lrs(lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda e: min(1.0, (e + 1) / 5)))
r["linear"], _ = lrs(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4))
r["sequential"], _ = lrs(lambda o: lr_scheduler.SequentialLR(
    o, schedulers=[lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=3),
                   lr_scheduler.CosineAnnealingLR(o, T_max=8)], milestones=[3]))
r["warm_restarts"], _ = lrs(lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2, eta_min=0.01))
r["cosine_adam"], sched = lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5), opt_cls=torch.optim.Adam)
r["cosine_state"] = {k: v for k, v in sched.state_dict().items() if k in ("T_max", "eta_min", "last_epoch", "base_lrs")}
r["multiplicative"], _ = lrs(lambda o: lr_scheduler.MultiplicativeLR(o, lr_lambda=lambda e: 0.95))

model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
opt = torch.optim.SGD(model[0].parameters(), lr=0.1, momentum=0.9)
opt.add_param_group({"params": model[1].parameters(), "lr": 0.01})
for g in opt.param_groups:
    g["lr"] = g["lr"] * 0.5
r["groups"] = [(g["lr"], g["momentum"], len(g["params"])) for g in opt.param_groups]
print(r["multistep"], r["groups"])
results = r
