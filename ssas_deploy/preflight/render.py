"""The preflight report as a rich table plus a one-line verdict."""

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ssas_deploy.preflight.report import PreflightReport, Status

STYLE = {Status.ok: "green", Status.warn: "yellow", Status.fail: "bold red"}


def report_table(report: PreflightReport) -> Table:
    table = Table("host", "address", "check", "status", "detail",
                  title=f"Preflight: profile '{report.profile}'")
    for index, host in enumerate(report.hosts):
        if index:
            table.add_section()
        for position, check in enumerate(host.checks):
            first = position == 0
            table.add_row(host.host if first else "", host.address if first else "",
                          check.name, Text(check.status.value, style=STYLE[check.status]),
                          check.message)
    return table


def verdict(report: PreflightReport) -> Text:
    failed = report.failed_hosts
    if not failed:
        warned = {h.host for h, _c in report.warnings()}
        note = f", with warnings on {', '.join(sorted(warned))}" if warned else ""
        return Text(f"All {len(report.hosts)} host(s) meet profile '{report.profile}'{note} "
                    f"({report.seconds:.1f} s).", style="green")
    names = ", ".join(h.host for h in failed)
    text = Text(f"{len(failed)} of {len(report.hosts)} host(s) fall short of profile "
                f"'{report.profile}': {names} ({report.seconds:.1f} s).", style="bold red")
    only_hardware = all(c.hardware for h in failed for c in h.checks if c.status is Status.fail)
    if only_hardware and not report.forced:
        text.append("\nOnly hardware falls short: --force continues with warnings "
                    "(e.g. on sandbox hosts, which share this machine's CPU and RAM).",
                    style="yellow")
    return text


def print_report(console: Console, report: PreflightReport) -> None:
    console.print(report_table(report))
    console.print(verdict(report))
