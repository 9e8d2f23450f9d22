"""`ssas-deploy verify`: load-test a deployment against its tier's targets.

Exit codes: 0 every target met; 1 a target missed, or the run could not measure (a host
unreachable, locust failed); 2 bad input or the app refused (e.g. models not trained yet);
130 interrupted by SIGINT or SIGTERM (the run's school and users are removed first).
"""

import json
import re
import signal
from contextlib import contextmanager
from typing import Annotated

import typer

from ssas_deploy.cli.options import load_deployment
from ssas_deploy.cli.release_cmd import InventoryRequired, ProfileDefaulted, _profile_for
from ssas_deploy.console import display_error, err, out, print_raw, reporting
from ssas_deploy.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID_INPUT,
    InvalidInputError,
    Problem,
)

# Each user asks for about 6 ML analyses a minute; the app allows a user 120 an hour, so
# past about 20 minutes a run would measure that limit (HTTP 429), not the site's speed.
MAX_DURATION_S = 15 * 60
# Every user's token goes to locust in one environment variable (never on a command line
# or a disk); Linux caps one at 128 KiB, 41 bytes a token.
MAX_USERS = 2500


def parse_duration(text: str) -> int:
    """"60s", "2m" or "90" (seconds) -> seconds, 5..900. Raises InvalidInputError."""
    found = re.fullmatch(r"\s*(\d+)\s*(s|m)?\s*", text)
    seconds = int(found[1]) * (60 if found[2] == "m" else 1) if found else 0
    if not 5 <= seconds <= MAX_DURATION_S:
        raise InvalidInputError([Problem(None, None, "--duration",
                                         f"{text!r}: give 5s to {MAX_DURATION_S // 60}m "
                                         "(e.g. 60s or 2m)")])
    return seconds


def verify(
    inventory: InventoryRequired,
    profile: ProfileDefaulted = None,
    duration: Annotated[str, typer.Option(
        "--duration", metavar="SECONDS", help="How long the load runs: 60s, 2m.")] = "60s",
    users: Annotated[int | None, typer.Option(
        "--users", min=1, max=MAX_USERS, help="Concurrent signed-in users (default: the "
        "profile's targets.concurrent_users).")] = None,
    students: Annotated[int, typer.Option(
        "--students", min=10, max=20000, help="Students in the verify school: the batch "
        "analysis's size.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Drive the tier's workload through the load balancer and judge it against the
    profile's targets.

    Signed-in teachers (one API token each) browse students and scores and ask for ML
    analyses while one batch analysis runs; users ramp up over the first quarter of the
    run. Prints per endpoint p50/p95/p99, throughput and errors, and the batch's
    students/min, each against its target. The run makes its own school and users on the
    first web host and removes them afterwards; it talks only to the inventory's hosts.
    Needs the ML models trained. Exit 0 when every target is met, 1 otherwise.
    """
    from ssas_deploy.migration.remote import RemoteError
    from ssas_deploy.verify.report import as_json as report_json
    from ssas_deploy.verify.report import passed
    from ssas_deploy.verify.run import RemovalFailed, VerifyFailed, run_verify

    with reporting():
        seconds = parse_duration(duration)
        deployment = load_deployment(_profile_for(profile, inventory), inventory, warn=False)
    count = users or deployment.profile.targets.concurrent_users
    try:
        with _sigterm_as_interrupt(), _progress(seconds, quiet=as_json) as tick:
            rows = run_verify(deployment, count, seconds, students, tick)
    except RemovalFailed as exc:
        display_error(str(exc))
        raise typer.Exit(EXIT_FAILED) from None
    except RemoteError as exc:
        display_error(str(exc))
        raise typer.Exit(EXIT_INVALID_INPUT if " exited 2:" in str(exc) else EXIT_FAILED
                         ) from None
    except VerifyFailed as exc:
        display_error(f"verify could not measure: {exc}")
        raise typer.Exit(EXIT_FAILED) from None
    except KeyboardInterrupt:
        display_error("verify interrupted; its school and users were removed")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if as_json:
        print_raw(json.dumps(report_json(rows, count, seconds), indent=1))
    else:
        _print_report(rows, count, seconds, deployment.profile.name)
    if not passed(rows):
        raise typer.Exit(EXIT_FAILED)


@contextmanager
def _sigterm_as_interrupt():
    """Inside it, SIGTERM ends the run as Ctrl-C does (its data removed first)."""
    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _progress(seconds: int, quiet: bool):
    """Yields tick(elapsed_s): a progress bar on stderr (none when `quiet`)."""
    if quiet:
        yield lambda _elapsed: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("load"), BarColumn(), TimeRemainingColumn(), console=err(),
                  transient=True) as progress:
        task = progress.add_task("load", total=seconds)
        yield lambda elapsed: progress.update(task, completed=min(elapsed, seconds))


def _print_report(rows, users: int, seconds: int, profile: str) -> None:
    from rich.table import Column, Table

    from ssas_deploy.verify.report import passed

    def ms(value):
        return "" if value is None else f"{value:,.0f}"

    table = Table(Column("endpoint", overflow="fold"), "requests", "errors", "p50 ms",
                  "p95 ms", "p99 ms", "req/s", "target", "result",
                  title=f"verify: {users} users for {seconds} s against {profile}'s targets")
    for row in rows:
        result = {None: "", True: "pass", False: "FAIL"}[row.passed]
        table.add_row(row.name, str(row.requests), str(row.failures), ms(row.p50_ms),
                      ms(row.p95_ms), ms(row.p99_ms),
                      "" if row.throughput is None else f"{row.throughput:.1f}",
                      row.target, f"{result} {row.note}".strip())
    out().print(table)
    out().print("all targets met" if passed(rows) else "some targets missed")

