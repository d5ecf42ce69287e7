# Module plumbing: device moves, register_buffer, named_modules, requires_grad_(False),
# weight tying, parameters_to_vector, state_dict(keep_vars), children, zero_grad.
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class TiedLM(nn.Module):
    def __init__(self, vocab=7, dim=4):
        super().__init__()
        self.encoder = nn.Embedding(vocab, dim)
        self.hidden = nn.Linear(dim, dim)
        self.decoder = nn.Linear(dim, vocab)
        self.decoder.weight = self.encoder.weight           # weight tying
        self.register_buffer("step_count", torch.zeros((), dtype=torch.long))
        self.register_buffer("scratch", torch.ones(2), persistent=False)

    def forward(self, idx):
        self.step_count += 1
        return self.decoder(torch.tanh(self.hidden(self.encoder(idx))))


rng = np.random.default_rng(33)
model = TiedLM().to(device)
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
print(device.type, str(device), next(model.parameters()).device.type)
print([n for n, _ in model.named_parameters()])
print(list(model.state_dict().keys()))
print([n for n, _ in model.named_modules()], [type(c).__name__ for c in model.children()])
vec = parameters_to_vector(model.parameters())
idx = torch.tensor([[1, 2, 3], [4, 5, 6]], device=device)
targets = torch.tensor([[2, 3, 4], [5, 6, 0]]).to(device)
logits = model(idx)
loss = nn.functional.cross_entropy(logits.view(-1, 7), targets.view(-1))
loss.backward()
tied_grad = model.encoder.weight.grad.clone()
model.zero_grad()
print(model.encoder.weight.grad is None, model.decoder.weight is model.encoder.weight)
model.requires_grad_(False)
frozen = [p.requires_grad for p in model.parameters()]
vector_to_parameters(vec * 2, model.parameters())
sd = model.state_dict()
results = {"vec": vec, "loss": loss.detach(), "tied_grad": tied_grad, "frozen": frozen,
           "count": model.step_count, "sd_keys": list(sd), "sd_decoder": sd["decoder.weight"],
           "n_params": sum(p.numel() for p in model.parameters()),
           "keep_vars": model.state_dict(keep_vars=True)["hidden.bias"].requires_grad}
