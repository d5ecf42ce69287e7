"""What a diagnosis reports: one :class:`Finding` per tensor with a problem, collected in a
:class:`Diagnosis` that prints them grouped (parameters with the same cause together) and
sums up the healthy ones in one line."""
from __future__ import annotations

from dataclasses import dataclass, field

from .sites import Site

#: The symptoms, as reports say them.
SYMPTOMS = {
    "none": ".grad is None",
    "zero": "gradient is exactly zero",
    "small": "gradient is vanishingly small",
    "nonfinite": "gradient holds NaN/inf",
    "value": "value holds NaN/inf",
}


@dataclass(frozen=True)
class Finding:
    """A tensor whose gradient is None, zero, vanishingly small or NaN/inf, and why.

    ``symptom``: a key of :data:`SYMPTOMS`; ``kind``: the cause, for programs (``"detach"``,
    ``"no_grad"``, ``"module_not_called"``, ``"dead_relu"``, ``"nan_forward"`` ...);
    ``cause``: the cause in one sentence; ``where``: the line of the user's code it points
    at (None when unknown); ``fix``: the usual remedy."""

    tensor: str
    symptom: str
    kind: str
    cause: str
    where: Site | None
    fix: str

    def __str__(self) -> str:
        return "\n".join(_block([self.tensor], self))


def _block(names: list, finding: Finding, alike: bool = True) -> list:
    """The lines for ``finding``, shared by the tensors ``names`` (``alike``: in the same
    words; else the first one's are shown, for it)."""
    shown = ", ".join(names) if len(names) <= 6 else f"{', '.join(names[:4])} and {len(names) - 4} more"
    lines = [f"{shown}: {SYMPTOMS[finding.symptom]}"]
    if finding.where is not None:
        code = finding.where.code
        lines.append(f"  at {finding.where}" + (f":  {code}" if code else ""))
    lines.append(f"  cause: {finding.cause}" + ("" if alike else f" (for {names[0]})"))
    lines.append(f"  fix:   {finding.fix}")
    return lines


@dataclass
class Healthy:
    """The tensors checked and found well: named, with the largest gradient norm among them."""

    names: list = field(default_factory=list)
    largest: float = 0.0
    frozen: list = field(default_factory=list)  # parameters with requires_grad=False, left alone
    redundant: list = field(default_factory=list)  # biases just before a batch norm (which removes them)

    def summary(self, problems: int) -> str:
        total = len(self.names) + problems
        if not self.names:
            text = f"{total} tensor{'s' if total != 1 else ''} checked, none healthy"
        else:
            shown = ", ".join(self.names[:6]) + (f" and {len(self.names) - 6} more" if len(self.names) > 6 else "")
            head = "all healthy" if not problems else f"{len(self.names)} healthy"
            text = (f"{total} tensor{'s' if total != 1 else ''} checked, {head} ({shown}): finite gradients, "
                    f"gradient norms up to {self.largest:.3g}")
        if self.frozen:
            text += f"; {len(self.frozen)} frozen (requires_grad=False) left alone"
        if self.redundant:
            text += (f"; {', '.join(self.redundant)}: no effect, a batch norm follows and removes "
                     f"{'it' if len(self.redundant) == 1 else 'them'} (bias=False saves the work)")
        return text


class Diagnosis(list):
    """The findings (a list of :class:`Finding`), and the healthy tensors in one line;
    ``print()`` it for the report."""

    def __init__(self, findings: list, healthy: Healthy | None = None) -> None:
        super().__init__(findings)
        self.healthy = healthy if healthy is not None else Healthy()

    @property
    def ok(self) -> bool:
        return not self

    def about(self, tensor: str) -> list:
        """The findings about the tensor named ``tensor``."""
        return [finding for finding in self if finding.tensor == tensor]

    def groups(self) -> list:
        """(tensor names, first finding, whether all say the same) for each cause and line,
        in order (a cause with numbers that differ per tensor is one group)."""
        grouped: dict = {}
        for finding in self:
            key = (finding.symptom, finding.kind, finding.where, finding.fix)
            group = grouped.setdefault(key, [[], finding, True])
            group[0].append(finding.tensor)
            group[2] = group[2] and finding.cause == group[1].cause
        return [tuple(group) for group in grouped.values()]

    def report(self) -> str:
        """The findings, grouped, without the summary line."""
        return "\n".join(line for names, finding, alike in self.groups() for line in _block(names, finding, alike))

    def summary(self) -> str:
        return self.healthy.summary(len({finding.tensor for finding in self}))

    def __str__(self) -> str:
        return "\n".join(part for part in (self.report(), self.summary()) if part)

    def __repr__(self) -> str:
        return f"Diagnosis({list.__repr__(self)})"
