"""Build the handover report (Markdown and HTML) and write it to a directory."""

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ssas_deploy.errors import InvalidInputError, Problem
from ssas_deploy.handover.facts import BackupState, gather_facts
from ssas_deploy.handover.markdown import build_markdown
from ssas_deploy.handover.page import to_html

MARKDOWN_NAME = "handover.md"
HTML_NAME = "handover.html"
FILE_MODE = 0o644  # the report holds no secret


@dataclass(frozen=True)
class Report:
    """The report's two renderings: Markdown text and a complete HTML document."""

    markdown: str
    html: str


def default_out_dir(inventory: Path) -> Path:
    """`<inventory dir>/handover/`."""
    return Path(inventory).parent / "handover"


def build_report(deployment, inventory: Path, profile_ref: str, backups: BackupState,
                 now=None) -> Report:
    """The report of `deployment` (built with `inventory`), given its `backups` state.

    `now` (a callable returning UNIX seconds) pins the generation time in tests.
    """
    facts = gather_facts(deployment, inventory, backups, now=now)
    markdown = build_markdown(deployment, inventory, profile_ref, facts)
    title = f"SSAS handover: {deployment.profile.name}"
    return Report(markdown=markdown, html=to_html(markdown, title))


def write_report(report: Report, out_dir: Path) -> tuple[Path, Path]:
    """Write handover.md and handover.html into `out_dir` (created if needed), each
    replaced atomically with mode 0644; their paths.

    Raises InvalidInputError naming the directory when it cannot be created or written.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        return (_write(out_dir / MARKDOWN_NAME, report.markdown),
                _write(out_dir / HTML_NAME, report.html))
    except OSError as exc:
        raise InvalidInputError([Problem(out_dir, None, "--out", f"cannot write the report "
                                         f"there: {exc.strerror or exc}")]) from None


def _write(path: Path, text: str) -> Path:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
