# Linear algebra as scientific code uses it: one LU factorization reused to solve many systems
# (a fixed-point iteration, a batch of transposed solves, the determinant read off the factors,
# the sensitivity of a solution to the matrix through lu_factor's gradient), then matrix_exp:
# a 3-D rotation recovered from point pairs and the propagator exp(M t) of a linear ODE fitted
# to a sampled trajectory, both by gradient descent through the matrix exponential.
import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
results = {}

# -- one factorization, many solves ---------------------------------------------------------------
A = torch.randn(5, 5) + 4 * torch.eye(5)
LU, pivots = torch.linalg.lu_factor(A)
print("pivots:", pivots.tolist())
x = torch.zeros(5, 1)
for step in range(6):  # x <- A^-1 (b + 0.5 x)
    b = torch.randn(5, 1)
    x = torch.linalg.lu_solve(LU, pivots, b + 0.5 * x)
    print(f"step {step}: x = {[round(v, 6) for v in x.flatten().tolist()]}")
results["iterate"] = x

P, L, U = torch.linalg.lu(A)
sign = torch.linalg.det(P)
print(f"det from the factors {float(sign * U.diagonal().prod()):.8f}, det {float(torch.linalg.det(A)):.8f}")
print("L diagonal:", L.diagonal().tolist(), "U diagonal:", [round(v, 6) for v in U.diagonal().tolist()])
results["P"], results["L"], results["U"] = P, L, U

batch = torch.randn(3, 4, 4)
factors, batch_pivots, info = torch.linalg.lu_factor_ex(batch)
rhs = torch.randn(3, 4, 2)
transposed = torch.linalg.lu_solve(factors, batch_pivots, rhs, adjoint=True)
print("info:", info.tolist(), "pivots:", batch_pivots.tolist())
print("transposed solve residual below 1e-12:", bool((batch.mT @ transposed - rhs).abs().max() < 1e-12))
results["transposed"] = transposed

M = A.clone().requires_grad_()
solution = torch.linalg.lu_solve(*torch.linalg.lu_factor(M), torch.ones(5, 1))
solution.sum().backward()
print("d sum(x) / d A, first row:", [round(v, 6) for v in M.grad[0].tolist()])
results["sensitivity"] = M.grad

# -- a rotation from point pairs ---------------------------------------------------------------------
basis = torch.zeros(3, 3, 3)
for k, (i, j) in enumerate([(1, 2), (2, 0), (0, 1)]):
    basis[k, i, j], basis[k, j, i] = -1.0, 1.0
true_axis_angle = torch.tensor([0.3, -0.8, 0.5])
rotation = torch.matrix_exp((true_axis_angle[:, None, None] * basis).sum(0))
points = torch.randn(3, 20)
targets = rotation @ points + 0.01 * torch.randn(3, 20)
w = torch.zeros(3, requires_grad=True)
optimizer = torch.optim.SGD([w], lr=0.02, momentum=0.8)
for step in range(60):
    optimizer.zero_grad()
    estimate = torch.linalg.matrix_exp((w[:, None, None] * basis).sum(0))
    loss = ((estimate @ points - targets) ** 2).mean()
    loss.backward()
    optimizer.step()
    if step % 15 == 0 or step == 59:
        print(f"rotation step {step}: loss {loss.item():.6f}, w {[round(v, 5) for v in w.tolist()]}")
results["axis_angle"] = w.detach()

# -- the propagator of a linear ODE x' = M x ---------------------------------------------------------
true_M = torch.tensor([[-0.1, 2.0], [-2.0, -0.3]])
times = torch.linspace(0.0, 3.0, 16)
x0 = torch.tensor([1.0, 0.0])
trajectory = torch.matrix_exp(true_M * times[:, None, None]) @ x0
observed = trajectory + 0.005 * torch.randn(16, 2)
generator = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], requires_grad=True)
optimizer = torch.optim.Adam([generator], lr=0.05)
for step in range(120):
    optimizer.zero_grad()
    predicted = torch.linalg.matrix_exp(generator * times[:, None, None]) @ x0
    loss = ((predicted - observed) ** 2).sum()
    loss.backward()
    optimizer.step()
    if step % 30 == 0 or step == 119:
        print(f"ode step {step}: loss {loss.item():.6f}")
print("fitted M:", [[round(v, 4) for v in row] for row in generator.tolist()])
results["generator"] = generator.detach()
results["propagator"] = torch.linalg.matrix_exp(generator.detach())
