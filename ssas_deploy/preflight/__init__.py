"""Preflight: is every host of the inventory ready for the profile? (paramiko, read-only)

`run_preflight(deployment, force)` returns a `PreflightReport`; `print_report` renders it.
A host falls short (exit 3) when it is unreachable, refuses the key, lacks passwordless sudo,
runs an unsupported OS, has a required port held by another program, a clock more than 5 s
off, or less CPU, RAM or disk than its profile spec; `force` turns only the hardware
shortfalls into warnings.
"""

from ssas_deploy.preflight.render import print_report, report_table, verdict
from ssas_deploy.preflight.report import Check, HostReport, PreflightReport, Status
from ssas_deploy.preflight.runner import check_host, run_preflight

__all__ = ["Check", "HostReport", "PreflightReport", "Status", "check_host", "print_report",
           "report_table", "run_preflight", "verdict"]
