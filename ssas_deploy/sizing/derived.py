"""A derived number that remembers how it was derived, for `plan --explain`."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Derived:
    """A value, the arithmetic that gave it and why. `derived` is set when the profile
    overrides the value: it holds what sizing derived (sizing.overrides.pinned)."""

    value: Any
    formula: str
    source: str
    derived: "Derived | None" = None

    def explain(self, name: str) -> str:
        """One line: `name = value = formula (source)`, or for an override
        `name = value (overridden in file:line; derived: value = formula (source))`."""
        if self.derived is not None:
            return (f"{name} = {self.value} ({self.formula}; derived: "
                    f"{self.derived.explain(name).split(' = ', 1)[1]})")
        return f"{name} = {self.value} = {self.formula} ({self.source})"


def fixed(value: Any, reason: str) -> Derived:
    """A constant, still explained: why this value and not another."""
    return Derived(value, str(value), reason)


GIB = 1024 * 1024  # kB per GiB: PostgreSQL and PGTune count memory in kB
MIB = 1024


def pg_size(kb: int) -> str:
    """PostgreSQL's own unit notation, exact (no rounding up)."""
    if kb >= GIB and kb % GIB == 0:
        return f"{kb // GIB}GB"
    if kb >= MIB and kb % MIB == 0:
        return f"{kb // MIB}MB"
    if kb >= MIB:
        return f"{kb // MIB}MB"
    return f"{kb}kB"


def gib(value_kb: float) -> str:
    """Human text for formulas: 3.5 GiB, 512 MiB."""
    if value_kb >= GIB:
        return f"{value_kb / GIB:.3g} GiB"
    return f"{value_kb / MIB:.4g} MiB"
