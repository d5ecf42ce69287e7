"""Small formulas typed by a user, evaluated safely into a graph.

``evaluate("(y - w*x)**2", {"w": 2, "x": 5, "y": 12})`` parses the text with Python's
``ast`` and walks it with a whitelist: numbers, the variables given, the operators
``+ - * / **`` (and unary ``-``/``+``) and a fixed set of chainrule functions.  Anything
else (attribute access, indexing, other names or calls, keywords, lambdas ...) is refused
with a one-line :class:`ExpressionError`; nothing is ever passed to ``eval``.  Every
variable becomes a float64 leaf that requires grad; the forward runs inside
``viz.trace()`` so that the graph can be drawn and explained (finite differences included).
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any, Callable


import numpy as np

from .. import functional as F
from ..creation import tensor
from ..dtypes import float64
from ..tensor import Tensor
from ._walk import fmt_number
from .trace import trace

MAX_LENGTH = 1000
MAX_NODES = 300


class ExpressionError(ValueError):
    """An expression that cannot be evaluated safely; the message is one line."""


def _functions() -> dict[str, tuple[Callable, int]]:
    return {
        "exp": (F.exp, 1), "log": (F.log, 1), "log2": (F.log2, 1), "log10": (F.log10, 1),
        "log1p": (F.log1p, 1), "expm1": (F.expm1, 1), "sqrt": (F.sqrt, 1),
        "rsqrt": (F.rsqrt, 1), "square": (F.square, 1), "reciprocal": (F.reciprocal, 1),
        "abs": (F.abs, 1), "sin": (F.sin, 1), "cos": (F.cos, 1), "tan": (F.tan, 1),
        "tanh": (F.tanh, 1), "sigmoid": (F.sigmoid, 1), "relu": (F.relu, 1),
        "maximum": (F.maximum, 2), "minimum": (F.minimum, 2), "atan2": (F.atan2, 2),
    }


FUNCTION_NAMES = ("exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "square",
                  "reciprocal", "abs", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "maximum",
                  "minimum", "atan2")
CONSTANTS = {"pi": math.pi, "e": math.e}
_LARGEST = int(np.finfo(np.float64).max)
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED = {
    ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Lambda: "lambda",
    ast.Compare: "comparison", ast.BoolOp: "'and'/'or'", ast.IfExp: "'if ... else'",
    ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.Set: "a set",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator",
    ast.JoinedStr: "an f-string", ast.NamedExpr: "':=' assignment", ast.Starred: "'*' unpacking",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "a slice",
}


@dataclass
class Evaluation:
    """An evaluated expression: its variables (leaves), result, and the forward steps
    ``(name, definition, tensor)`` in the order they ran."""

    expression: str
    variables: dict
    result: Any
    steps: list = field(default_factory=list)


def parse_assignments(text: str) -> dict[str, float]:
    """``"w=2,x=5"`` -> ``{"w": 2.0, "x": 5.0}``."""
    values: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, number = part.partition("=")
        name, number = name.strip(), number.strip()
        if not sep or not name.isidentifier():
            raise ExpressionError(f"expected NAME=NUMBER, got {part[:40]!r}")
        if name in values:
            raise ExpressionError(f"{name} is given twice (--at {name}=...,{name}=...): give each variable one value")
        try:
            values[name] = float(number)
        except ValueError:
            raise ExpressionError(f"value of {name} is not a number: {number[:40]!r}") from None
    return values


def variables_of(expression: str) -> list[str]:
    """The variable names an expression uses, in order of first appearance (validated)."""
    tree = _parse(expression)
    _validate(tree, None)
    seen: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in CONSTANTS and node.id not in FUNCTION_NAMES:
            if node.id not in seen:
                seen.append(node.id)
    ordered = sorted(seen, key=lambda name: expression.find(name))
    return ordered


def evaluate(expression: str, values: dict[str, float], names: dict[str, str] | None = None,
             result_name: str = "L") -> Evaluation:
    """Evaluate ``expression`` with ``values`` for its variables (see the module docstring).

    ``names`` maps a sub-expression's source (as ``ast.unparse`` writes it, e.g. ``"w * x"``)
    to the name its result gets; the others are called u1, u2 ... and the result ``result_name``
    (or, when a variable has that name, the first of ``loss``, ``L1``, ``L2`` ... that none
    has): no intermediate is ever named like a variable.
    """
    tree = _parse(expression)
    _validate(tree, values)
    variables = {}
    for name in values:
        if name in CONSTANTS or name in FUNCTION_NAMES:
            raise ExpressionError(f"{name!r} is a built-in name and cannot be a variable")
        leaf = tensor(float(values[name]), dtype=float64, requires_grad=True)
        leaf.name = name
        variables[name] = leaf
    evaluation = Evaluation(expression, variables, None)
    result_name = _free_name([result_name, "loss"], variables)
    walker = _Walker(variables, names or {}, evaluation, _functions(), taken={*variables, result_name})
    with trace(), np.errstate(all="ignore"):
        value, _ = walker.visit(tree.body)
    if not isinstance(value, Tensor) or not value.requires_grad:
        raise ExpressionError("the expression does not depend on any variable")
    if evaluation.steps:
        last = evaluation.steps[-1]
        if last[2] is value:
            value.name = result_name
            evaluation.steps[-1] = (result_name, last[1], value)
    evaluation.result = value
    return evaluation


def _free_name(candidates: list[str], taken: Any) -> str:
    """The first candidate not in ``taken``, else ``L1``, ``L2`` ..."""
    for name in candidates:
        if name not in taken:
            return name
    n = 1
    while f"L{n}" in taken:
        n += 1
    return f"L{n}"


def _parse(expression: str) -> ast.Expression:
    if not expression.strip():
        raise ExpressionError("the expression is empty")
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long ({len(expression)} characters, at most {MAX_LENGTH})")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"invalid expression: {error.msg} (at column {error.offset or 0})") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the expression is too deeply nested") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"the expression is too large (at most {MAX_NODES} parts)")
    return tree


def _validate(tree: ast.Expression, values: dict | None) -> None:
    """Refuse anything outside the whitelist, before anything runs."""
    allowed = ", ".join(FUNCTION_NAMES)
    for node in ast.walk(tree):
        kind = type(node)
        if kind in _REFUSED:
            raise ExpressionError(f"{_REFUSED[kind]} is not allowed in an expression{_where(node)}")
        if kind is ast.Call:
            if isinstance(node.func, ast.Attribute):
                raise ExpressionError(f"attribute access is not allowed in an expression{_where(node.func)}")
            if not isinstance(node.func, ast.Name):
                raise ExpressionError(f"only calls to these functions are allowed: {allowed}")
            if node.func.id not in FUNCTION_NAMES:
                raise ExpressionError(f"unknown function {node.func.id!r} (allowed: {allowed})")
            if node.keywords:
                raise ExpressionError(f"keyword arguments are not allowed (in {node.func.id}(...))")
        elif kind is ast.BinOp:
            if type(node.op) not in _OPERATORS:
                raise ExpressionError(f"operator {_op_text(node.op)!r} is not allowed (allowed: + - * / **)")
        elif kind is ast.UnaryOp:
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise ExpressionError(f"operator {_op_text(node.op)!r} is not allowed (allowed: unary - and +)")
        elif kind is ast.Constant:
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ExpressionError(f"only numbers are allowed as constants, got {str(node.value)[:40]!r}")
            if isinstance(node.value, int) and abs(node.value) > _LARGEST:
                raise ExpressionError(f"the number {str(node.value)[:20]}... ({len(str(node.value))} digits) is "
                                      "too large for a float64 (at most ~1.8e308)")
        elif kind is ast.Name:
            if not isinstance(node.ctx, ast.Load):
                raise ExpressionError("assignment is not allowed in an expression")
        elif kind not in (ast.Expression, ast.Load, ast.USub, ast.UAdd) and kind not in _OPERATORS:
            raise ExpressionError(f"{kind.__name__} is not allowed in an expression")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and _is_variable(node, tree):
            if node.id in FUNCTION_NAMES:
                raise ExpressionError(f"{node.id!r} is a function: call it as {node.id}(...)")
            if node.id not in CONSTANTS and values is not None and node.id not in values:
                raise ExpressionError(f"unknown name {node.id!r}: give it a value (e.g. --at {node.id}=1)")


def _is_variable(name: ast.Name, tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.func is name:
            return False
    return True


def _where(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f" ('.{node.attr}')"
    return ""


def _op_text(op: ast.AST) -> str:
    return {"Mod": "%", "FloorDiv": "//", "MatMult": "@", "LShift": "<<", "RShift": ">>",
            "BitOr": "|", "BitXor": "^", "BitAnd": "&", "Invert": "~", "Not": "not"}.get(type(op).__name__, type(op).__name__)


class _Walker:
    """Evaluates a validated tree; returns (value, label) for every sub-expression."""

    def __init__(self, variables: dict, names: dict, evaluation: Evaluation, functions: dict,
                 taken: set) -> None:
        self.variables = variables
        self.names = names
        self.taken = taken  # names an intermediate must not get: the variables' and the result's
        self.evaluation = evaluation
        self.functions = functions
        self.counter = 0

    def visit(self, node: ast.AST) -> tuple[Any, str]:
        if isinstance(node, ast.Constant):
            return float(node.value), _number(float(node.value))
        if isinstance(node, ast.Name):
            if node.id in self.variables:
                return self.variables[node.id], node.id
            return CONSTANTS[node.id], node.id
        if isinstance(node, ast.UnaryOp):
            value, label = self.visit(node.operand)
            if isinstance(node.op, ast.UAdd):
                return value, label
            return self.record(node, -value if _is_tensor(value) else -np.float64(value), f"-{label}")
        if isinstance(node, ast.BinOp):
            (a, la), (b, lb) = self.visit(node.left), self.visit(node.right)
            symbol = _OPERATORS[type(node.op)]
            if not _is_tensor(a) and not _is_tensor(b):
                a = np.float64(a)
            result = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                      "/": lambda: a / b, "**": lambda: a ** b}[symbol]()
            return self.record(node, result, f"{la} {symbol} {lb}")
        if isinstance(node, ast.Call):
            function, arity = self.functions[node.func.id]
            if len(node.args) != arity:
                raise ExpressionError(f"{node.func.id}() takes {arity} argument{'s' if arity > 1 else ''}, got {len(node.args)}")
            visited = [self.visit(arg) for arg in node.args]
            args = [_as_tensor(v) for v, _ in visited]
            return self.record(node, function(*args), f"{node.func.id}({', '.join(l for _, l in visited)})")
        raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")

    def record(self, node: ast.AST, value: Any, definition: str) -> tuple[Any, str]:
        if not _is_tensor(value) or not value.requires_grad:
            number = float(np.asarray(getattr(value, "data", value)))
            return number, _number(number)
        name = self.names.get(ast.unparse(node))
        if name is None or name in self.variables:
            self.counter += 1
            while f"u{self.counter}" in self.taken:
                self.counter += 1
            name = f"u{self.counter}"
        value.name = name
        self.evaluation.steps.append((name, definition, value))
        return value, name


def _is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)


def _as_tensor(x: Any) -> Any:
    return x if _is_tensor(x) else tensor(float(x), dtype=float64)


def _number(x: float) -> str:
    return fmt_number(x)
