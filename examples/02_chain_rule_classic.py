"""The chain rule on the tutorial's example: w = 2, x = 5, y = 12, L = (y - w*x)^2.

dL/dw = dL/dout * dout/dnet * dnet/dw, with every factor computed and checked.

Run: python examples/02_chain_rule_classic.py
"""
import chainrule as torch

w = torch.tensor([2.0], requires_grad=True)
x = torch.tensor([5.0])
y_actual = torch.tensor([12.0])

with torch.viz.trace():          # remembers the forward, so explain can also check finite differences
    net = w * x                  # the weighted sum
    out = y_actual - net         # how far off the prediction is
    loss = out ** 2
loss.name = "L"

explanation = torch.explain(loss, w)
print(explanation)

# The same chain rule by hand: every node of the graph is callable, as in PyTorch. Given the
# gradient of L with respect to its output, a node returns the gradients for its inputs.
print("\nThe same chain, one node at a time (node(gradient) -> gradients of its inputs):")
node, grad = loss.grad_fn, torch.ones(1)                      # dL/dL = 1
while type(node).__name__ != "AccumulateGrad":
    results = node(grad)
    results = results if isinstance(results, tuple) else (results,)
    print(f"  {node.name():>14}({grad.item():g}) -> {tuple(None if r is None else r.item() for r in results)}")
    node, grad = next((n, r) for (n, _), r in zip(node.next_functions, results) if n is not None)
print(f"  the gradient that reaches w: {grad.item():g}")

loss.backward()
print(f"\nloss.backward() gives w.grad = {w.grad.item():g}, the same number")
lr = 0.01
print(f"one update step: w <- w - lr * grad = {w.item():g} - {lr} * ({w.grad.item():g}) = {w.item() - lr * w.grad.item():g}")
