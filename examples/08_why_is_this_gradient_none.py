"""Why is this gradient None, zero or NaN — and at which line? A two-layer network whose
first layer never learns: its output goes through `.detach()` on the way. `chainrule debug
script.py` reports the same on any PyTorch-style training script, unchanged.

Run: python examples/08_why_is_this_gradient_none.py
"""
import chainrule as torch
from chainrule import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        h = self.hidden(x).relu()
        return self.out(h.detach())  # the bug: the hidden layer is cut off from the loss


torch.manual_seed(0)
model = Net()
with torch.debug.recording():  # remembers where each op was called, for the report
    loss = nn.functional.cross_entropy(model(torch.randn(16, 4)), torch.randint(0, 2, (16,)))
    loss.backward()
print(f"hidden.weight.grad = {model.hidden.weight.grad}")
print(torch.autograd.diagnose(loss, model))
