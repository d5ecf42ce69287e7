"""The words of a diagnosis: each cause in one sentence, and its usual fix."""
from __future__ import annotations

REQUIRES_GRAD = ("create it with requires_grad=True (torch.randn(..., requires_grad=True)), or call "
                 "{name}.requires_grad_() before the forward pass")
NOT_LEAF = ("update it in place inside `with torch.no_grad():` (`{name} -= lr * {name}.grad`), so that it "
            "stays a leaf; to see the gradient of a computed tensor, call {name}.retain_grad() before backward()")
MODULE_NOT_CALLED = ("call {module}(...) in the forward pass, or delete it (and leave its parameters out of "
                     "the optimizer)")
OUTPUT_UNUSED = "add what it computes to the loss, or stop computing it"
NOT_USED = "use it in the forward pass, or leave it out of what is optimized"
RECORD = "run the script under `chainrule debug` (or the code under chainrule.debug.recording()) to see the line"
NOTHING_REQUIRES_GRAD = "create the parameters with requires_grad=True (nn.Parameter does it)"
NAN_VALUE = "find the step whose gradient was NaN/inf (its report names the op), and lower the learning rate"
NAN_GRADIENT = "call optimizer.zero_grad() every step, and check the hooks that change gradients"
ZERO = "check the ops between the loss and it: one of them passes no gradient"
VANISHING = "normalise the inputs, use ReLU-family activations and Kaiming/Xavier initialisation"

_CUTS = {
    "detach": (".detach() cuts the graph here: what was computed before it gets no gradient",
               "remove .detach() from the forward pass (detach only values that must not be trained)"),
    "detach_": (".detach_() cuts the graph here: what was computed before it gets no gradient",
                "remove .detach_() from the forward pass"),
    "data": (".data takes the values out of the graph here: what was computed before it gets no gradient",
             "use the tensor itself, not .data, in the forward pass"),
    "item": (".item() turns the tensor into a Python number here; made a tensor again with "
             "torch.tensor(...), it is a constant with no history",
             "keep it a tensor: compute with tensor ops instead of .item() and torch.tensor(...)"),
    "tolist": (".tolist() turns the tensor into Python numbers here; made a tensor again, they are "
               "constants with no history", "keep it a tensor: compute with tensor ops instead of .tolist()"),
    "numpy": (".numpy() turns the tensor into a NumPy array here; made a tensor again, it is a constant "
              "with no history", "keep it a tensor: compute with tensor ops instead of NumPy"),
    "tensor": ("torch.tensor(...) copies the values into a new tensor with no history here",
               "use the tensor itself (torch.stack or torch.cat for a list of tensors) instead of torch.tensor(...)"),
    "no_grad": ("{op} runs under torch.no_grad() here, so it is not recorded and no gradient flows back through it",
                "move it out of the no_grad block (no_grad is for evaluation and weight updates)"),
    "integer_cast": ("casting to {op} here drops the history: integer and bool tensors carry no gradient",
                     "keep it floating point; to round while training, pass the gradient straight through: "
                     "x + (x.round() - x).detach()"),
    "no_derivative": ("{op} has no derivative, so no gradient flows back through it",
                      "use a smooth stand-in (torch.sigmoid((x - t) / temperature) for x > t, softmax for "
                      "argmax), or pass the gradient straight through: y_soft + (y_hard - y_soft).detach()"),
}


def for_cut(kind: str, op: str | None) -> tuple[str, str]:
    """(cause, fix) of a graph cut."""
    cause, fix = _CUTS[kind]
    return cause.format(op=_readable(op)), fix


def _readable(op: str | None) -> str:
    if op is None:
        return "an op"
    return _OPS.get(op, op)


#: Ops as a cause names them (comparisons by their NumPy ufunc).
_OPS = {"greater": "the comparison >", "less": "the comparison <", "greater_equal": "the comparison >=",
        "less_equal": "the comparison <=", "equal": "the comparison ==", "not_equal": "the comparison !=",
        "logical_and": "logical and", "logical_or": "logical or", "logical_xor": "logical xor",
        "Argmax": "argmax (or argmin)"}


def for_stopper(op: str, node: str, activity: str | None) -> tuple[str, str, str]:
    """(kind, cause, fix) for an op that passed back a zero (or all but zero) gradient."""
    seen = f": {activity}" if activity else ""
    if op == "Relu":
        return ("dead_relu", f"the ReLU here passes no gradient back{seen} (a dead ReLU)",
                "lower the learning rate; initialise the layer before it with nn.init.kaiming_normal_ and a small "
                "positive bias; or use nn.LeakyReLU / nn.GELU, which pass a gradient for negative inputs")
    if op in ("Sigmoid", "Tanh"):
        return ("saturated", f"the {op.lower()} here is saturated{seen}, where its derivative is all but zero",
                "normalise its inputs (nn.LayerNorm / nn.BatchNorm1d, or scale the data), initialise the layer "
                "before it with smaller weights (nn.init.xavier_uniform_), or use a ReLU-family activation")
    if op == "Clamp":
        return ("clamp", f"clamp here passes no gradient where its input lies outside the range{seen}",
                "widen the range, or pass the gradient straight through: x + (x.clamp(a, b) - x).detach()")
    if op in ("Rounding", "Sign"):
        name = node[:-len("Backward0")].lower() if node.endswith("Backward0") else op.lower()
        return ("zero_derivative", f"{name} has derivative 0 everywhere, so the gradient through it is exactly zero",
                f"pass the gradient straight through: x + (x.{name}() - x).detach(), or use a smooth stand-in")
    return ("zero", f"{op} ({node}) here passes back a zero gradient{seen}", ZERO)


def for_shrinker(op: str, node: str, activity: str | None) -> tuple[str, str, str]:
    """(kind, cause, fix) for an op that passed back an all but zero gradient."""
    if op in ("Relu", "Sigmoid", "Tanh", "Clamp", "Rounding", "Sign"):
        return for_stopper(op, node, activity)
    return ("vanishing", f"{op} ({node}) here passes back an all but zero gradient", VANISHING)


def for_nan(op: str, backward: bool = False) -> str:
    """The usual fix for NaN/inf made by ``op`` (in its forward, or its backward)."""
    if op in ("Log", "Log2", "Log10"):
        return ("keep its argument positive: torch.log(x + 1e-8) or torch.log(x.clamp(min=1e-8)); for the log of "
                "a softmax, use F.log_softmax or F.cross_entropy")
    if op in ("Sqrt", "Rsqrt"):
        return ("add a small epsilon inside the square root: torch.sqrt(x + 1e-8)" if backward
                else "clamp the argument at 0 (x.clamp(min=0)) or find why it goes negative")
    if op in ("Div", "Reciprocal"):
        return "add a small epsilon to the divisor, or mask the elements where it is 0"
    if op in ("Exp", "Expm1", "Exp2", "Sinh", "Cosh"):
        return "subtract the maximum first (x - x.max()), or use torch.logsumexp / F.softmax, which do"
    if op == "Pow":
        return "add a small epsilon to the base, or use an integer power"
    if op == "Norm2":
        return "add a small epsilon: torch.sqrt((x * x).sum() + 1e-12)"
    return "check the input data for NaN/inf, and lower the learning rate"


def for_vanishing(op: str) -> str:
    if op in ("Sigmoid", "Tanh"):
        return ("use ReLU-family activations with nn.init.kaiming_normal_, normalisation layers (nn.LayerNorm / "
                "nn.BatchNorm1d) or residual connections")
    return VANISHING
