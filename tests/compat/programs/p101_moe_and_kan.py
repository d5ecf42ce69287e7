# A sparse mixture-of-experts layer as the Switch/Mixtral-style reference code writes it: a router Linear,
# softmax gates, torch.topk routing renormalised by the selected probabilities, tokens dispatched per expert
# with torch.where on a one-hot expert mask (F.one_hot(...).permute), outputs accumulated with index_add_ into a
# zeros_like buffer (and again with scatter_add_ on expanded indices), the Switch load-balancing auxiliary loss
# from the routing fractions and mean probabilities, router z-loss with logsumexp, expert counts by bincount and
# histc, capacity dropping with cumsum; next to a Kolmogorov-Arnold Network layer (efficient-kan style):
# B-spline bases by the Cox-de Boor recursion on a grid buffer made with arange/expand, comparisons cast to
# the input dtype, a SiLU base branch, spline weights via einsum, initial coefficients fitted with
# torch.linalg.lstsq, trained by LBFGS with a strong-Wolfe line search in float64 (set_default_dtype).
import torch
import torch.nn as nn
import torch.nn.functional as F


class Expert(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class SparseMoE(nn.Module):
    def __init__(self, dim=16, hidden=24, num_experts=4, top_k=2):
        super().__init__()
        self.num_experts, self.top_k = num_experts, top_k
        self.gate = nn.Linear(dim, num_experts, bias=False)
        self.experts = nn.ModuleList([Expert(dim, hidden) for _ in range(num_experts)])

    def forward(self, hidden_states):
        batch_size, sequence_length, hidden_dim = hidden_states.shape
        hidden_states = hidden_states.view(-1, hidden_dim)
        router_logits = self.gate(hidden_states)
        routing_weights = F.softmax(router_logits, dim=1, dtype=torch.float)
        routing_weights, selected_experts = torch.topk(routing_weights, self.top_k, dim=-1)
        routing_weights /= routing_weights.sum(dim=-1, keepdim=True)
        routing_weights = routing_weights.to(hidden_states.dtype)
        final_hidden_states = torch.zeros((batch_size * sequence_length, hidden_dim), dtype=hidden_states.dtype,
                                          device=hidden_states.device)
        expert_mask = F.one_hot(selected_experts, num_classes=self.num_experts).permute(2, 1, 0)
        for expert_idx in range(self.num_experts):
            expert_layer = self.experts[expert_idx]
            idx, top_x = torch.where(expert_mask[expert_idx])
            current_state = hidden_states[None, top_x].reshape(-1, hidden_dim)
            current_hidden_states = expert_layer(current_state) * routing_weights[top_x, idx, None]
            final_hidden_states.index_add_(0, top_x, current_hidden_states.to(hidden_states.dtype))
        final_hidden_states = final_hidden_states.reshape(batch_size, sequence_length, hidden_dim)
        return final_hidden_states, router_logits, selected_experts


def load_balancing_loss_func(gate_logits, num_experts, top_k):
    routing_weights = F.softmax(gate_logits, dim=-1)
    _, selected_experts = torch.topk(routing_weights, top_k, dim=-1)
    expert_mask = F.one_hot(selected_experts, num_experts)
    tokens_per_expert = torch.mean(expert_mask.float(), dim=0)
    router_prob_per_expert = torch.mean(routing_weights, dim=0)
    return torch.sum(tokens_per_expert * router_prob_per_expert.unsqueeze(0)) * num_experts


def router_z_loss(router_logits):
    return torch.mean(torch.logsumexp(router_logits, dim=-1) ** 2)


torch.manual_seed(0)
moe = SparseMoE()
head = nn.Linear(16, 1)
opt = torch.optim.AdamW(list(moe.parameters()) + list(head.parameters()), lr=3e-3)
x = torch.randn(4, 6, 16)
target = x.sum(-1, keepdim=True).tanh()
moe_hist = []
for step in range(10):
    out, logits, selected = moe(x)
    mse = F.mse_loss(head(out), target)
    aux = load_balancing_loss_func(logits, 4, 2)
    z = router_z_loss(logits)
    loss = mse + 0.01 * aux + 1e-3 * z
    opt.zero_grad()
    loss.backward()
    opt.step()
    moe_hist.append([round(mse.item(), 6), round(aux.item(), 6), round(z.item(), 6)])
print("moe", moe_hist[0], moe_hist[-1])
counts = torch.bincount(selected.flatten(), minlength=4)
hist = torch.histc(selected.flatten().float(), bins=4, min=0, max=3)
print("expert counts", counts.tolist(), hist.tolist())

# Switch-style top-1 dispatch with a capacity: tokens beyond it are dropped
with torch.no_grad():
    probs = F.softmax(logits, dim=-1)
    expert_index = probs.argmax(dim=-1)
    one_hot = F.one_hot(expert_index, 4)
    position_in_expert = torch.cumsum(one_hot, dim=0) * one_hot
    capacity = 5
    keep = (position_in_expert <= capacity).all(dim=-1) & (position_in_expert.sum(-1) > 0)
    flat = x.view(-1, 16)
    combined = torch.zeros_like(flat)
    gathered = flat * probs.max(dim=-1).values.unsqueeze(-1) * keep.unsqueeze(-1)
    combined.scatter_add_(0, torch.arange(flat.shape[0]).unsqueeze(1).expand(-1, 16), gathered)
print("kept", int(keep.sum()), "of", keep.numel(), position_in_expert.max(dim=0).values.tolist())


class KANLinear(nn.Module):
    def __init__(self, in_features, out_features, grid_size=5, spline_order=3, grid_range=(-1, 1)):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.grid_size, self.spline_order = grid_size, spline_order
        h = (grid_range[1] - grid_range[0]) / grid_size
        grid = ((torch.arange(-spline_order, grid_size + spline_order + 1) * h + grid_range[0])
                .expand(in_features, -1).contiguous())
        self.register_buffer("grid", grid)
        self.base_weight = nn.Parameter(torch.Tensor(out_features, in_features))
        self.spline_weight = nn.Parameter(torch.Tensor(out_features, in_features, grid_size + spline_order))
        self.base_activation = nn.SiLU()
        torch.nn.init.kaiming_uniform_(self.base_weight, a=5 ** 0.5)
        with torch.no_grad():
            noise = (torch.rand(self.grid_size + 1, in_features, out_features) - 0.5) * 0.1 / grid_size
            self.spline_weight.data.copy_(
                self.curve2coeff(self.grid.T[spline_order:-spline_order], noise).permute(0, 1, 2))

    def b_splines(self, x):
        grid = self.grid
        x = x.unsqueeze(-1)
        bases = ((x >= grid[:, :-1]) & (x < grid[:, 1:])).to(x.dtype)
        for k in range(1, self.spline_order + 1):
            bases = ((x - grid[:, : -(k + 1)]) / (grid[:, k:-1] - grid[:, : -(k + 1)]) * bases[:, :, :-1]) + (
                (grid[:, k + 1:] - x) / (grid[:, k + 1:] - grid[:, 1:(-k)]) * bases[:, :, 1:])
        return bases.contiguous()

    def curve2coeff(self, x, y):
        A = self.b_splines(x).transpose(0, 1)
        B = y.transpose(0, 1)
        solution = torch.linalg.lstsq(A, B).solution
        return solution.permute(2, 0, 1).contiguous()

    def forward(self, x):
        base_output = F.linear(self.base_activation(x), self.base_weight)
        spline_output = torch.einsum("bik,oik->bo", self.b_splines(x), self.spline_weight)
        return base_output + spline_output

    def regularization_loss(self, regularize_activation=1.0, regularize_entropy=1.0):
        l1_fake = self.spline_weight.abs().mean(-1)
        regularization_loss_activation = l1_fake.sum()
        p = l1_fake / regularization_loss_activation
        regularization_loss_entropy = -torch.sum(p * p.log())
        return regularize_activation * regularization_loss_activation + regularize_entropy * regularization_loss_entropy


torch.set_default_dtype(torch.float64)  # as pykan's tutorials do: L-BFGS on splines needs the precision
torch.manual_seed(1)
kan = nn.Sequential(KANLinear(2, 5), KANLinear(5, 1))
data = torch.rand(64, 2) * 2 - 1
labels = torch.exp(torch.sin(torch.pi * data[:, :1]) + data[:, 1:] ** 2)
opt = torch.optim.LBFGS(kan.parameters(), lr=0.5, history_size=10, line_search_fn="strong_wolfe")
kan_hist = []
for step in range(4):
    def closure():
        opt.zero_grad()
        loss = F.mse_loss(kan(data), labels) + 1e-4 * sum(layer.regularization_loss() for layer in kan)
        loss.backward()
        return loss
    kan_hist.append(round(opt.step(closure).item(), 6))
print("kan", kan_hist)
bases = kan[0].b_splines(torch.linspace(-1, 0.99, 5).unsqueeze(1).expand(-1, 2))
print("partition of unity", torch.allclose(bases.sum(-1), torch.ones(5, 2)))
results = {"moe": moe_hist, "counts": counts, "hist": hist, "combined": combined, "keep": keep,
           "gate": moe.gate.weight.detach(), "expert_w2": moe.experts[1].w2.weight.detach(), "kan": kan_hist,
           "bases": bases, "spline": kan[1].spline_weight.detach(), "kan_out": kan(data[:6]).detach()}
