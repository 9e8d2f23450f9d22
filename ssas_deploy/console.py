"""Output helpers: results on stdout, diagnostics on stderr, never a traceback.

rich is imported when first used, so commands that print one plain line (render) start fast.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ssas_deploy.errors import InvalidInputError, SsasDeployError, shown_problems

if TYPE_CHECKING:
    from rich.console import Console


# Width of output that is not a terminal (a pipe, a file, a CI log): wide enough that no
# table cell is cut short; a table is only as wide as its contents.
UNCUT_WIDTH = 10_000


def _width() -> int | None:
    # Tests pin the width so the asserted output does not depend on the terminal.
    value = os.environ.get("SSAS_DEPLOY_WIDTH")
    return int(value) if value else None


def _console(stderr: bool) -> "Console":
    """A rich console as wide as the terminal, SSAS_DEPLOY_WIDTH or COLUMNS; piped output
    gets UNCUT_WIDTH instead of rich's 80 columns, where tables cut long paths short."""
    from rich.console import Console

    console = Console(stderr=stderr, width=_width(), highlight=False, soft_wrap=True)
    if _width() is None and not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = UNCUT_WIDTH
    return console


def out() -> "Console":
    """The console for results (stdout)."""
    return _console(stderr=False)


def err() -> "Console":
    """The console for diagnostics (stderr)."""
    return _console(stderr=True)


def display_error(message: str) -> None:
    from rich.text import Text

    err().print(Text.assemble(("error: ", "bold red"), message))


def display_warning(message: str) -> None:
    from rich.text import Text

    err().print(Text.assemble(("warning: ", "yellow"), message))


def print_raw(text: str) -> None:
    """Machine output (JSON, schema): no rich processing at all."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@contextmanager
def reporting() -> Iterator[None]:
    """Turn the project's errors into a message and its documented exit code."""
    import typer

    try:
        yield
    except InvalidInputError as exc:
        for line in shown_problems(exc.problems):
            display_error(line)
        raise typer.Exit(exc.exit_code) from None
    except SsasDeployError as exc:
        display_error(str(exc))
        raise typer.Exit(exc.exit_code) from None
