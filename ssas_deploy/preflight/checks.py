"""Pure evaluation of what a host reported: no I/O, so every rule is unit-testable."""

import re
import shlex
from dataclasses import dataclass

from ssas_deploy.context import paths
from ssas_deploy.profiles.models import HostSpec, Profile, Role
from ssas_deploy.sizing.redis import BROKER_PORT, CACHE_PORT, SENTINEL_PORT
from ssas_deploy.topology import Host, Topology

SUPPORTED_OS = {"debian": {"12"}, "ubuntu": {"22.04", "24.04"}}
SUPPORTED_TEXT = "Debian 12, Ubuntu 22.04 or 24.04"
# The kernel and firmware keep part of the RAM: MemTotal of a 4 GiB machine is ~3.8 GiB.
RAM_TOLERANCE = 0.10
# A disk of N GiB shows a slightly smaller filesystem (partitions, ext4 metadata).
DISK_TOLERANCE = 0.10
CLOCK_TOLERANCE_S = 5.0
GIB = 1024**3

REDIS = ("redis-server", "redis-sentinel")
POSTGRES = ("postgres", "postgresql")


@dataclass(frozen=True)
class PortNeed:
    port: int
    service: str
    ours: tuple[str, ...]  # process names of ssas-deploy's own service on this port
    # Units of that service: where `ss` cannot name a process (no CAP_SYS_PTRACE, e.g. in
    # containers), an active unit of ours on a managed port tells us the port is ours.
    units: tuple[str, ...] = ()


def required_ports(profile: Profile, topology: Topology, host: Host) -> list[PortNeed]:
    """The TCP ports this host's roles will listen on, with the process that may hold them."""
    needs: dict[int, PortNeed] = {}

    def need(port: int, service: str, ours: tuple[str, ...], units: tuple[str, ...]) -> None:
        needs.setdefault(port, PortNeed(port, service, ours, units))

    if host.has(Role.load_balancer):
        need(80, "nginx http", ("nginx",), ("nginx.service",))
        need(443, "nginx https", ("nginx",), ("nginx.service",))
    if host.has(Role.web):
        need(paths.GUNICORN_PORT, "gunicorn", ("gunicorn",), ("ssas-gunicorn.service",))
    is_db = any(host.has(r) for r in (Role.database, Role.database_replica,
                                      Role.database_shard))
    if is_db and profile.database.engine == "postgresql":
        need(paths.POSTGRES_PORT, "postgresql", POSTGRES,
             (f"postgresql@{paths.POSTGRES_VERSION}-main.service",))
        if profile.database.pooler == "pgbouncer":
            need(paths.PGBOUNCER_PORT, "pgbouncer", ("pgbouncer",), ("pgbouncer.service",))
    for role, port, name, unit in (
        (Role.redis_cache, CACHE_PORT, "redis cache", "ssas-redis-cache.service"),
        (Role.redis_broker, BROKER_PORT, "redis broker", "ssas-redis-broker.service"),
    ):
        if host.has(role):
            need(port, name, REDIS, (unit,))
            if len(topology.with_role(role)) > 1:
                need(SENTINEL_PORT, "redis sentinel", REDIS, ("ssas-redis-sentinel.service",))
    return sorted(needs.values(), key=lambda n: n.port)


def parse_os_release(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            try:
                parts = shlex.split(value)
            except ValueError:
                parts = [value]
            values[key.strip()] = parts[0] if parts else ""
    return values


def check_os(os_release: dict[str, str]) -> tuple[bool, str]:
    os_id = os_release.get("ID", "").lower()
    version = os_release.get("VERSION_ID", "")
    pretty = os_release.get("PRETTY_NAME") or f"{os_id} {version}".strip() or "unknown"
    if version in SUPPORTED_OS.get(os_id, set()):
        return True, pretty
    return False, f"{pretty}: not supported (needs {SUPPORTED_TEXT})"


def check_cpu(cores: int, spec: HostSpec) -> tuple[bool, str]:
    if cores >= spec.cpu_cores:
        return True, f"{cores} cores (profile: {spec.cpu_cores})"
    return False, f"{cores} cores, profile needs {spec.cpu_cores}"


def check_memory(mem_total_kib: int, spec: HostSpec) -> tuple[bool, str]:
    gib = mem_total_kib * 1024 / GIB
    floor = spec.ram_gib * (1 - RAM_TOLERANCE)
    if gib >= floor:
        return True, f"{gib:.1f} GiB (profile: {spec.ram_gib:g} GiB)"
    return False, (f"{gib:.1f} GiB RAM, profile needs {spec.ram_gib:g} GiB "
                   f"(at least {floor:.1f} GiB visible)")


def check_disk(size_kib: int, free_kib: int, spec: HostSpec) -> tuple[bool, str]:
    size = size_kib * 1024 / GIB
    free = free_kib * 1024 / GIB
    floor = spec.disk_gib * (1 - DISK_TOLERANCE)
    if size >= floor:
        return True, f"/ {size:.0f} GiB, {free:.0f} GiB free (profile: {spec.disk_gib} GiB)"
    return False, (f"/ is {size:.0f} GiB ({free:.0f} GiB free), profile needs "
                   f"{spec.disk_gib} GiB")


def parse_df(text: str) -> tuple[int, int]:
    """`df -Pk /` -> (size KiB, available KiB)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    fields = lines[-1].split()
    return int(fields[1]), int(fields[3])


def parse_meminfo(text: str) -> int:
    match = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
    if not match:
        raise ValueError("no MemTotal in /proc/meminfo")
    return int(match.group(1))


def parse_listeners(ss_output: str) -> dict[int, set[str]]:
    """`ss -ltnpH` -> port -> names of the processes listening on it ('?' when not shown)."""
    listeners: dict[int, set[str]] = {}
    for line in ss_output.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        # ss -H: State Recv-Q Send-Q Local:Port Peer:Port [Process]
        local = fields[3] if fields[0].upper() == "LISTEN" else fields[2]
        port_text = local.rsplit(":", 1)[-1]
        if not port_text.isdigit():
            continue
        names = set(re.findall(r'\("([^"]+)",pid=', line)) or {"?"}
        listeners.setdefault(int(port_text), set()).update(names)
    return listeners


def check_ports(needs: list[PortNeed], listeners: dict[int, set[str]],
                active_units: set[str] | frozenset[str] = frozenset()) -> tuple[bool, str]:
    """Ports held by another program fail; held by our own service (earlier apply) is fine."""
    busy, reused = [], []
    for need in needs:
        holders = listeners.get(need.port)
        if not holders:
            continue
        if holders == {"?"} and active_units & set(need.units):
            reused.append(f"{need.port} by {'/'.join(sorted(active_units & set(need.units)))}")
            continue
        foreign = {n for n in holders if not n.startswith(need.ours)}
        if foreign:
            shown = ", ".join(sorted("an unknown process" if n == "?" else n for n in foreign))
            busy.append(f"{need.port} ({need.service}) is held by {shown}")
        else:
            reused.append(f"{need.port} by {'/'.join(sorted(holders))}")
    if not needs:
        return True, "no service ports on this host"
    ports = ", ".join(str(n.port) for n in needs)
    if busy:
        return False, "; ".join(busy)
    if reused:
        return True, f"{ports}: free or already ours ({', '.join(reused)})"
    return True, f"{ports} free"


def check_clock(offset_s: float, ntp: str) -> tuple[bool, str]:
    ntp_text = {"yes": "NTP synchronized", "no": "NTP not synchronized"}.get(
        ntp, "NTP status unknown")
    if abs(offset_s) <= CLOCK_TOLERANCE_S:
        return True, f"offset {offset_s:+.1f} s from this machine; {ntp_text}"
    return False, (f"clock is {offset_s:+.1f} s off this machine's (limit "
                   f"{CLOCK_TOLERANCE_S:g} s); {ntp_text}")
