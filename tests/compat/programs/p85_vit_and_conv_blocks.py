# A Vision Transformer from scratch (patches by unfold and by a strided conv, a class token, learned position
# embeddings, nn.MultiheadAttention with batch_first, pre-norm blocks, GELU MLP, an MLP head), einsum attention
# with an ellipsis (lucidrains' style), the position embeddings resized bicubically for a larger image (timm's
# resample_abs_pos_embed), next to d2l's convolutional blocks: ResNet's Residual with a 1x1 shortcut,
# DenseNet's dense and transition blocks, NiN.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def img_to_patch(x, patch_size, flatten_channels=True):
    B, C, H, W = x.shape
    x = x.reshape(B, C, H // patch_size, patch_size, W // patch_size, patch_size)
    x = x.permute(0, 2, 4, 1, 3, 5)
    x = x.flatten(1, 2)
    if flatten_channels:
        x = x.flatten(2, 4)
    return x


class AttentionBlock(nn.Module):
    def __init__(self, embed_dim, hidden_dim, num_heads, dropout=0.0):
        super().__init__()
        self.layer_norm_1 = nn.LayerNorm(embed_dim)
        self.attn = nn.MultiheadAttention(embed_dim, num_heads, dropout=dropout)
        self.layer_norm_2 = nn.LayerNorm(embed_dim)
        self.linear = nn.Sequential(nn.Linear(embed_dim, hidden_dim), nn.GELU(), nn.Dropout(dropout),
                                    nn.Linear(hidden_dim, embed_dim), nn.Dropout(dropout))

    def forward(self, x):
        inp_x = self.layer_norm_1(x)
        x = x + self.attn(inp_x, inp_x, inp_x)[0]
        x = x + self.linear(self.layer_norm_2(x))
        return x


class VisionTransformer(nn.Module):
    def __init__(self, embed_dim, hidden_dim, num_channels, num_heads, num_layers, num_classes, patch_size,
                 num_patches, dropout=0.0):
        super().__init__()
        self.patch_size = patch_size
        self.input_layer = nn.Linear(num_channels * (patch_size**2), embed_dim)
        self.transformer = nn.Sequential(
            *(AttentionBlock(embed_dim, hidden_dim, num_heads, dropout=dropout) for _ in range(num_layers)))
        self.mlp_head = nn.Sequential(nn.LayerNorm(embed_dim), nn.Linear(embed_dim, num_classes))
        self.dropout = nn.Dropout(dropout)
        self.cls_token = nn.Parameter(torch.randn(1, 1, embed_dim))
        self.pos_embedding = nn.Parameter(torch.randn(1, 1 + num_patches, embed_dim))

    def forward(self, x):
        x = img_to_patch(x, self.patch_size)
        B, T, _ = x.shape
        x = self.input_layer(x)
        cls_token = self.cls_token.repeat(B, 1, 1)
        x = torch.cat([cls_token, x], dim=1)
        x = x + self.pos_embedding[:, : T + 1]
        x = self.dropout(x)
        x = x.transpose(0, 1)
        x = self.transformer(x)
        cls = x[0]
        out = self.mlp_head(cls)
        return out


class PatchEmbed(nn.Module):
    def __init__(self, img_size=16, patch_size=4, in_chans=3, embed_dim=24):
        super().__init__()
        self.n_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        x = self.proj(x)
        x = x.flatten(2)
        x = x.transpose(1, 2)
        return x


class BatchFirstViT(nn.Module):
    def __init__(self, dim=24, depth=2, heads=4, classes=5):
        super().__init__()
        self.patch_embed = PatchEmbed(embed_dim=dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.patch_embed.n_patches, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=2 * dim, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)

    def forward(self, x):
        x = self.patch_embed(x)
        cls_token = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls_token, x), dim=1) + self.pos_embed
        x = self.encoder(x)
        return self.head(self.norm(x)[:, 0])


class EinsumAttention(nn.Module):
    def __init__(self, dim, heads=4, dim_head=8):
        super().__init__()
        inner_dim = dim_head * heads
        self.heads = heads
        self.scale = dim_head**-0.5
        self.norm = nn.LayerNorm(dim)
        self.to_qkv = nn.Linear(dim, inner_dim * 3, bias=False)
        self.to_out = nn.Linear(inner_dim, dim)

    def forward(self, x):
        b, n, _ = x.shape
        x = self.norm(x)
        qkv = self.to_qkv(x).chunk(3, dim=-1)
        q, k, v = map(lambda t: t.reshape(b, n, self.heads, -1).transpose(1, 2), qkv)
        dots = torch.einsum("...id,...jd->...ij", q, k) * self.scale
        attn = dots.softmax(dim=-1)
        out = torch.einsum("...ij,...jd->...id", attn, v)
        out = out.transpose(1, 2).reshape(b, n, -1)
        return self.to_out(out)


def resample_abs_pos_embed(posemb, new_size, num_prefix_tokens=1):
    prefix, posemb = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    old = int(math.sqrt(posemb.shape[1]))
    posemb = posemb.reshape(1, old, old, -1).permute(0, 3, 1, 2)
    posemb = F.interpolate(posemb, size=new_size, mode="bicubic", antialias=True)
    posemb = posemb.permute(0, 2, 3, 1).reshape(1, -1, posemb.shape[1])
    return torch.cat([prefix, posemb], dim=1)


images = torch.randn(6, 3, 16, 16)
labels = torch.randint(0, 5, (6,))
ein = EinsumAttention(24)
tokens = torch.randn(2, 5, 24, requires_grad=True)
ein_out = ein(tokens)
ein_out.pow(2).mean().backward()
print(ein_out.shape, tokens.grad.norm())
print(img_to_patch(images, 4).shape, img_to_patch(images, 4, flatten_channels=False).shape)
unfolded = F.unfold(images, kernel_size=4, stride=4).transpose(1, 2)
print(unfolded.shape)
vit = VisionTransformer(embed_dim=24, hidden_dim=48, num_channels=3, num_heads=4, num_layers=2, num_classes=5,
                        patch_size=4, num_patches=16)
vit2 = BatchFirstViT()
report = {}
for name, model in (("vit", vit), ("vit_bf", vit2)):
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[3], gamma=0.1)
    losses = []
    for step in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(model(images), labels, label_smoothing=0.1)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        acc = (model(images).argmax(dim=-1) == labels).float().mean()
    report[name] = {"losses": losses, "acc": acc, "params": sum(p.numel() for p in model.parameters()),
                    "lr": sched.get_last_lr()}
    print(name, losses, acc.item())

big = torch.randn(2, 3, 24, 24)
vit2.pos_embed = nn.Parameter(resample_abs_pos_embed(vit2.pos_embed.detach(), (6, 6)))
vit2.patch_embed.n_patches = 36
with torch.no_grad():
    big_logits = vit2(big)
small_pos = resample_abs_pos_embed(vit2.pos_embed.detach(), (3, 3))
print(vit2.pos_embed.shape, big_logits, small_pos.shape)


class Residual(nn.Module):
    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def conv_block(num_channels):
    return nn.Sequential(nn.LazyBatchNorm2d(), nn.ReLU(), nn.LazyConv2d(num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    def __init__(self, num_convs, num_channels):
        super(DenseBlock, self).__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X


def transition_block(num_channels):
    return nn.Sequential(nn.LazyBatchNorm2d(), nn.ReLU(), nn.LazyConv2d(num_channels, kernel_size=1),
                         nn.AvgPool2d(kernel_size=2, stride=2))


def nin_block(out_channels, kernel_size, strides, padding):
    return nn.Sequential(nn.LazyConv2d(out_channels, kernel_size, strides, padding), nn.ReLU(),
                         nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU(),
                         nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU())


X = torch.randn(4, 3, 8, 8)
blk = Residual(3)
print(blk(X).shape)
blk = Residual(6, use_1x1conv=True, strides=2)
res_out = blk(X)
print(res_out.shape)
dense = DenseBlock(2, 10)
dense_out = dense(X)
print(dense_out.shape, transition_block(10)(dense_out).shape)
net = nn.Sequential(nin_block(8, kernel_size=3, strides=1, padding=1), nn.MaxPool2d(3, stride=2), nn.Dropout(0.5),
                    nin_block(5, kernel_size=3, strides=1, padding=1), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, "output shape:\t", X.shape)
loss = X.pow(2).sum() + res_out.mean() + dense_out.std()
loss.backward()
print(net[0][0].weight.grad.norm(), blk.bn1.running_mean, dense.net[0][0].num_batches_tracked)
results = {"einsum_attn": ein_out, "tokens_grad": tokens.grad, "big_logits": big_logits, "small_pos": small_pos,
           "pos_embed": vit2.pos_embed.detach(), "report": report, "nin_out": X, "res": res_out, "dense_grad": dense.net[1][2].weight.grad,
           "bn_var": blk.bn2.running_var}
