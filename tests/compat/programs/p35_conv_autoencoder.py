# A convolutional autoencoder: Conv2d with stride, ConvTranspose2d, Upsample, AvgPool2d,
# AdaptiveAvgPool2d, Conv1d on a side branch.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 4, 3, stride=2, padding=1),   # 4 x 4 x 4
            nn.ReLU(True),
            nn.Conv2d(4, 8, 3, stride=2, padding=1),   # 8 x 2 x 2
            nn.ReLU(True),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),  # 4 x 4 x 4
            nn.ReLU(True),
            nn.Upsample(scale_factor=2, mode="nearest"),                        # 4 x 8 x 8
            nn.Conv2d(4, 1, 3, padding=1),
            nn.Sigmoid(),
        )
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.avg = nn.AvgPool2d(2)
        self.side = nn.Conv1d(8, 2, kernel_size=2)

    def forward(self, x):
        z = self.encoder(x)
        code = self.pool(z).flatten(1)
        side = self.side(z.flatten(2))
        return self.decoder(z), code, side, self.avg(x)


rng = np.random.default_rng(32)
model = AutoEncoder().double()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.4))
x = torch.from_numpy(rng.random((3, 1, 8, 8)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
for step in range(3):
    recon, code, side, pooled = model(x)
    loss = F.mse_loss(recon, x) + 0.01 * code.pow(2).sum() + 0.01 * side.abs().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(step, f"{loss.item():.8f}", tuple(recon.shape), tuple(code.shape), tuple(side.shape))
up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
up2 = F.interpolate(x, size=(5, 5), mode="bilinear", align_corners=True)
results = {"recon": recon.detach(), "code": code.detach(), "side": side.detach(), "pooled": pooled,
           "params": [p.detach() for p in model.parameters()], "up": up, "up2": up2,
           "maxpool": F.max_pool2d(x, kernel_size=3, stride=2, padding=1),
           "avgpool": F.avg_pool2d(x, 2, stride=1), "adaptive": F.adaptive_avg_pool2d(x, 3)}
