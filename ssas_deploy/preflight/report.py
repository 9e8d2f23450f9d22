"""What preflight found: per host, a list of checks with ok / warn / fail and a message."""

from dataclasses import dataclass, field
from enum import StrEnum

from ssas_deploy.errors import EXIT_OK, EXIT_PREFLIGHT


class Status(StrEnum):
    ok = "ok"
    warn = "warn"
    fail = "fail"


@dataclass(frozen=True)
class Check:
    name: str  # reachable, ssh, sudo, os, cpu, memory, disk, ports, clock
    status: Status
    message: str
    hardware: bool = False  # a hardware shortfall: --force turns fail into warn


@dataclass
class HostReport:
    host: str
    address: str
    roles: tuple[str, ...]
    checks: list[Check] = field(default_factory=list)

    @property
    def status(self) -> Status:
        statuses = {c.status for c in self.checks}
        for status in (Status.fail, Status.warn):
            if status in statuses:
                return status
        return Status.ok

    def add(self, name: str, status: Status, message: str, hardware: bool = False) -> Check:
        check = Check(name, status, message, hardware)
        self.checks.append(check)
        return check


@dataclass
class PreflightReport:
    profile: str
    hosts: list[HostReport]
    forced: bool
    seconds: float = 0.0

    @property
    def failed_hosts(self) -> list[HostReport]:
        return [h for h in self.hosts if h.status is Status.fail]

    @property
    def ok(self) -> bool:
        return not self.failed_hosts

    @property
    def exit_code(self) -> int:
        """0 when every host meets the profile (warnings allowed), else 3."""
        return EXIT_OK if self.ok else EXIT_PREFLIGHT

    def warnings(self) -> list[tuple[HostReport, Check]]:
        return [(h, c) for h in self.hosts for c in h.checks if c.status is Status.warn]
