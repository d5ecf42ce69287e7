# A VQ-VAE the way the popular reference implementations write it: a conv encoder, a VectorQuantizer whose
# codebook is an nn.Embedding (uniform_(-1/K, 1/K)), distances by the expanded square formula and by torch.cdist,
# argmin codes turned into one-hot encodings with scatter_, the codebook and commitment losses (F.mse_loss against
# detached tensors), the straight-through estimator x + (q - x).detach(), perplexity from the average code usage;
# then the EMA variant (VectorQuantizerEMA: cluster sizes and embedding sums updated in place under no_grad with
# mul_/add_, Laplace smoothing, copy_ into the codebook), a ConvTranspose2d decoder, Adam, and a few codes
# restarted from the batch when they die (randperm, index_copy_).
import torch
import torch.nn as nn
import torch.nn.functional as F


class VectorQuantizer(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, commitment_cost):
        super().__init__()
        self._embedding_dim = embedding_dim
        self._num_embeddings = num_embeddings
        self._embedding = nn.Embedding(self._num_embeddings, self._embedding_dim)
        self._embedding.weight.data.uniform_(-1 / self._num_embeddings, 1 / self._num_embeddings)
        self._commitment_cost = commitment_cost

    def forward(self, inputs):
        inputs = inputs.permute(0, 2, 3, 1).contiguous()
        input_shape = inputs.shape
        flat_input = inputs.view(-1, self._embedding_dim)
        distances = (torch.sum(flat_input ** 2, dim=1, keepdim=True)
                     + torch.sum(self._embedding.weight ** 2, dim=1)
                     - 2 * torch.matmul(flat_input, self._embedding.weight.t()))
        encoding_indices = torch.argmin(distances, dim=1).unsqueeze(1)
        encodings = torch.zeros(encoding_indices.shape[0], self._num_embeddings, device=inputs.device)
        encodings.scatter_(1, encoding_indices, 1)
        quantized = torch.matmul(encodings, self._embedding.weight).view(input_shape)
        e_latent_loss = F.mse_loss(quantized.detach(), inputs)
        q_latent_loss = F.mse_loss(quantized, inputs.detach())
        loss = q_latent_loss + self._commitment_cost * e_latent_loss
        quantized = inputs + (quantized - inputs).detach()
        avg_probs = torch.mean(encodings, dim=0)
        perplexity = torch.exp(-torch.sum(avg_probs * torch.log(avg_probs + 1e-10)))
        return loss, quantized.permute(0, 3, 1, 2).contiguous(), perplexity, encodings


class VectorQuantizerEMA(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, commitment_cost, decay, epsilon=1e-5):
        super().__init__()
        self._embedding_dim = embedding_dim
        self._num_embeddings = num_embeddings
        self._embedding = nn.Embedding(self._num_embeddings, self._embedding_dim)
        self._embedding.weight.data.normal_()
        self._commitment_cost = commitment_cost
        self.register_buffer("_ema_cluster_size", torch.zeros(num_embeddings))
        self._ema_w = nn.Parameter(torch.Tensor(num_embeddings, self._embedding_dim))
        self._ema_w.data.normal_()
        self._decay = decay
        self._epsilon = epsilon

    def forward(self, inputs):
        inputs = inputs.permute(0, 2, 3, 1).contiguous()
        input_shape = inputs.shape
        flat_input = inputs.view(-1, self._embedding_dim)
        distances = torch.cdist(flat_input, self._embedding.weight) ** 2
        encoding_indices = torch.argmin(distances, dim=1)
        encodings = F.one_hot(encoding_indices, self._num_embeddings).float()
        quantized = self._embedding(encoding_indices).view(input_shape)
        if self.training:
            with torch.no_grad():
                self._ema_cluster_size.mul_(self._decay).add_(torch.sum(encodings, 0), alpha=1 - self._decay)
                n = torch.sum(self._ema_cluster_size.data)
                self._ema_cluster_size = ((self._ema_cluster_size + self._epsilon)
                                          / (n + self._num_embeddings * self._epsilon) * n)
                dw = torch.matmul(encodings.t(), flat_input)
                self._ema_w.mul_(self._decay).add_(dw, alpha=1 - self._decay)
                self._embedding.weight.copy_(self._ema_w / self._ema_cluster_size.unsqueeze(1))
        e_latent_loss = F.mse_loss(quantized.detach(), inputs)
        loss = self._commitment_cost * e_latent_loss
        quantized = inputs + (quantized - inputs).detach()
        avg_probs = torch.mean(encodings, dim=0)
        perplexity = torch.exp(-torch.sum(avg_probs * torch.log(avg_probs + 1e-10)))
        return loss, quantized.permute(0, 3, 1, 2).contiguous(), perplexity, encoding_indices


class Residual(nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self._block = nn.Sequential(
            nn.ReLU(True),
            nn.Conv2d(channels, hidden, kernel_size=3, stride=1, padding=1, bias=False),
            nn.ReLU(True),
            nn.Conv2d(hidden, channels, kernel_size=1, stride=1, bias=False),
        )

    def forward(self, x):
        return x + self._block(x)


class Model(nn.Module):
    def __init__(self, num_hiddens, embedding_dim, num_embeddings, commitment_cost, decay=0.0):
        super().__init__()
        self._encoder = nn.Sequential(
            nn.Conv2d(1, num_hiddens // 2, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(num_hiddens // 2, num_hiddens, 4, stride=2, padding=1),
            Residual(num_hiddens, 8), nn.ReLU(),
        )
        self._pre_vq_conv = nn.Conv2d(num_hiddens, embedding_dim, kernel_size=1, stride=1)
        if decay > 0.0:
            self._vq_vae = VectorQuantizerEMA(num_embeddings, embedding_dim, commitment_cost, decay)
        else:
            self._vq_vae = VectorQuantizer(num_embeddings, embedding_dim, commitment_cost)
        self._decoder = nn.Sequential(
            nn.Conv2d(embedding_dim, num_hiddens, 3, stride=1, padding=1),
            Residual(num_hiddens, 8),
            nn.ConvTranspose2d(num_hiddens, num_hiddens // 2, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(num_hiddens // 2, 1, 4, stride=2, padding=1),
        )

    def forward(self, x):
        z = self._pre_vq_conv(self._encoder(x))
        loss, quantized, perplexity, codes = self._vq_vae(z)
        x_recon = self._decoder(quantized)
        return loss, x_recon, perplexity, codes


torch.manual_seed(42)
# "images": blurry blobs at random places
yy, xx = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
centres = torch.rand(24, 2) * 7
images = torch.exp(-((yy - centres[:, 0, None, None]) ** 2 + (xx - centres[:, 1, None, None]) ** 2) / 4.0)
images = images.unsqueeze(1) - 0.5
data_variance = torch.var(images)
print("data variance", round(data_variance.item(), 6))

results = {}
for decay in (0.0, 0.9):
    torch.manual_seed(1)
    model = Model(num_hiddens=16, embedding_dim=4, num_embeddings=8, commitment_cost=0.25, decay=decay)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3, amsgrad=False)
    model.train()
    history = []
    for step in range(12):
        batch = images[torch.randperm(24)[:8]]
        optimizer.zero_grad()
        vq_loss, data_recon, perplexity, codes = model(batch)
        recon_error = F.mse_loss(data_recon, batch) / data_variance
        loss = recon_error + vq_loss
        loss.backward()
        optimizer.step()
        history.append([round(recon_error.item(), 5), round(vq_loss.item(), 6), round(perplexity.item(), 4)])
        if decay == 0.0 and step % 4 == 3:
            # restart dead codes from random encoder outputs
            with torch.no_grad():
                used = torch.bincount(codes.argmax(1), minlength=8)
                dead = torch.nonzero(used == 0).squeeze(1)
                if dead.numel() > 0:
                    z = model._pre_vq_conv(model._encoder(batch)).permute(0, 2, 3, 1).reshape(-1, 4)
                    pick = z[torch.randperm(z.shape[0])[: dead.numel()]]
                    model._vq_vae._embedding.weight.index_copy_(0, dead, pick)
                print("step", step, "dead codes", dead.tolist())
    print("decay", decay, history[0], history[-1])
    # the straight-through estimator: gradients reach the encoder though argmin has none
    enc_grad = model._encoder[0].weight.grad
    print("encoder grad norm", round(enc_grad.norm().item(), 6))
    model.eval()
    with torch.no_grad():
        _, recon, perp, codes = model(images[:4])
    key = "ema" if decay else "plain"
    results[key] = {"history": history, "codebook": model._vq_vae._embedding.weight.detach().clone(),
                    "recon": recon, "enc_grad": enc_grad, "perplexity": perp}
    if decay:
        results[key]["cluster_size"] = model._vq_vae._ema_cluster_size
        results[key]["codes"] = codes
print(sorted(results))
