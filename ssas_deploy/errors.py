"""The one error family the CLI catches and prints without a traceback.

Exit codes are a user-facing contract: 0 ok, 1 an operation failed, 2 invalid input,
3 a host does not meet the profile, 130 interrupted (SIGINT or SIGTERM; 128 + SIGINT, as shells
report a Ctrl-C).
"""

from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID_INPUT = 2
EXIT_PREFLIGHT = 3
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    file: Path | None
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        """`FILE[:LINE]: FIELD: MESSAGE`; without a file, `FIELD: MESSAGE` (the field is then
        the command-line option or the setting at fault)."""
        parts = [str(self.file) + (f":{self.line}" if self.line else "")] if self.file else []
        if self.field:
            parts.append(self.field)
        return ": ".join([*parts, self.message])


class SsasDeployError(Exception):
    exit_code = EXIT_FAILED


class InvalidInputError(SsasDeployError):
    """Bad profile, inventory or flags; carries every problem found, not only the first."""

    exit_code = EXIT_INVALID_INPUT

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(shown_problems(problems)))


MAX_SHOWN_PROBLEMS = 20


def shown_problems(problems: list[Problem]) -> list[str]:
    """The first MAX_SHOWN_PROBLEMS problems as lines, then one line counting the rest."""
    lines = [str(p) for p in problems[:MAX_SHOWN_PROBLEMS]]
    if len(problems) > MAX_SHOWN_PROBLEMS:
        lines.append(f"... and {len(problems) - MAX_SHOWN_PROBLEMS} more problem(s) "
                     "not shown; fix these first")
    return lines


class OperationFailedError(SsasDeployError):
    exit_code = EXIT_FAILED


def validation_message(kind: str, loc: tuple, message: str, allowed_keys) -> str:
    """A pydantic error (its `type`, location and `msg`) in the words of an input file: an
    unknown key names the allowed ones (`allowed_keys(parent_location) -> list[str]`) and
    the closest, a missing one says so, a validator's own message loses pydantic's
    'Value error, ' prefix. Used for profiles and inventories alike."""
    import difflib

    if kind == "extra_forbidden":
        allowed = allowed_keys(loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        return f"unknown key{suggestion}; allowed: {', '.join(allowed)}"
    if kind == "missing":
        return "required field is missing"
    return message.removeprefix("Value error, ")
