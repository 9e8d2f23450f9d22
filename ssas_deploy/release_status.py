"""What runs where: each host's app release, its units, readiness and load balancer state.

Read-only: one SSH round trip per host (in parallel) to the helpers the roles install,
`ssas-release status` on app hosts and `ssas-lb-backend list` on load balancers, plus the
control node's record of the last apply beside the inventory.
"""

import json
import logging
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ssas_deploy.profiles.models import Role
from ssas_deploy.ssh import SshError, as_root, connect, run
from ssas_deploy.topology import Host

RELEASE_HELPER = "/usr/local/sbin/ssas-release"
LB_HELPER = "/usr/local/sbin/ssas-lb-backend"
CONNECT_TIMEOUT_S = 5.0


@dataclass
class HostStatus:
    """One host's answer; `error` set when it could not be read."""

    name: str
    address: str
    roles: tuple[str, ...]
    current: str | None = None
    previous: str | None = None
    releases: list[str] = field(default_factory=list)
    units: dict[str, dict] = field(default_factory=dict)
    ready: str | None = None  # HTTP status of /monitoring/ready/ on web hosts
    backends: dict[str, str] = field(default_factory=dict)  # load balancers: server -> up/down
    error: str | None = None


def last_apply_record(inventory: Path) -> Path:
    """`hosts.yaml` -> `hosts.last-apply.json` (written by apply and rollback)."""
    return inventory.with_name(f"{inventory.stem}.last-apply.json")


def read_last_apply(inventory: Path) -> dict | None:
    """The record of the last apply/rollback, or None when there is none (or it is unreadable)."""
    return _read_record(last_apply_record(inventory))


def write_last_apply(inventory: Path, record: dict) -> None:
    """Replace the record (mode 0600; it holds no secret, but names hosts and profiles)."""
    _write_record(last_apply_record(inventory), record)


def last_restore_record(inventory: Path) -> Path:
    """`hosts.yaml` -> `hosts.last-restore.json` (written by a successful restore)."""
    return inventory.with_name(f"{inventory.stem}.last-restore.json")


def read_last_restore(inventory: Path) -> dict | None:
    """The record of the last successful restore ({time: UNIX s, point, to_host: [names],
    tables, rows, seconds}), or None when there is none (or it is unreadable)."""
    return _read_record(last_restore_record(inventory))


def write_last_restore(inventory: Path, record: dict) -> None:
    """Replace the restore record (mode 0600), like write_last_apply."""
    _write_record(last_restore_record(inventory), record)


def _read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _write_record(path: Path, record: dict) -> None:
    # Written beside and renamed: a reader never sees half a record.
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)


def app_units(host_vars: dict) -> list[str]:
    """The app's systemd units on a host: gunicorn and one per Celery queue group."""
    units = ["ssas-gunicorn.service"] if "gunicorn_workers" in host_vars else []
    units += [f"{g['unit']}.service" for g in host_vars.get("celery_worker_groups", [])]
    return units


def status_script(host: Host, host_vars: dict) -> str:
    """Shell for one round trip; sections start with @@name."""
    parts = []
    if host.has(Role.web) or host.has(Role.celery_worker):
        units = " ".join(shlex.quote(u) for u in app_units(host_vars))
        parts.append(f"printf '@@release\\n'; {RELEASE_HELPER} status {units} 2>&1 || true")
    if host.has(Role.web):
        url = f"http://{host_vars['gunicorn_bind']}/monitoring/ready/"
        # -w ends with a newline: the next section's marker must start a line.
        parts.append(f"printf '@@ready\\n'; curl -s -o /dev/null -m 5 -w '%{{http_code}}\\n' "
                     f"{shlex.quote(url)} || true")
    if host.has(Role.load_balancer):
        parts.append(f"printf '@@lb\\n'; {LB_HELPER} list 2>&1 || true")
    return "; ".join(parts) or "true"


def parse_sections(text: str) -> dict[str, str]:
    sections, name = {}, None
    for line in text.splitlines():
        if line.startswith("@@"):
            name = line[2:].strip()
            sections[name] = ""
        elif name:
            sections[name] += line + "\n"
    return sections


def host_status(deployment, host: Host, timeout: float = CONNECT_TIMEOUT_S) -> HostStatus:
    """Read one host (never raises: a failure is recorded in `error`)."""
    status = HostStatus(host.name, host.address, tuple(sorted(r.value for r in host.roles)))
    try:
        client = connect(host, timeout)
    except SshError as exc:
        status.error = str(exc)
        return status
    try:
        code, out, err = run(client, as_root(host, status_script(
            host, deployment.host_vars[host.name])))
    except (OSError, EOFError) as exc:  # a dropped connection or a command time-out
        status.error = f"reading {host.name} failed: {exc or type(exc).__name__}"
        return status
    finally:
        client.close()
    if code != 0:
        status.error = f"status commands failed ({code}): {err.strip()[-300:]}"
        return status
    sections = parse_sections(out.decode(errors="replace"))
    release = sections.get("release", "").strip()
    if release:
        try:
            data = json.loads(release)
        except ValueError:
            status.error = f"ssas-release: {release[-200:]}"
        else:
            status.current, status.previous = data.get("current"), data.get("previous")
            status.releases, status.units = data.get("releases", []), data.get("units", {})
    if "ready" in sections:
        status.ready = sections["ready"].strip() or "no answer"
    lb = sections.get("lb", "").strip()
    if lb:
        try:
            status.backends = json.loads(lb)
        except ValueError:
            status.backends = {"?": lb[-200:]}
    return status


def collect(deployment) -> list[HostStatus]:
    """Every host of the deployment, read in parallel, in topology order."""
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    hosts = deployment.topology.hosts
    with ThreadPoolExecutor(max_workers=max(1, min(len(hosts), 16))) as pool:
        return list(pool.map(lambda h: host_status(deployment, h), hosts))


def age(seconds_since_epoch: float) -> str:
    """'3 min ago' style age of a timestamp."""
    delta = max(0, time.time() - seconds_since_epoch)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if delta >= size:
            return f"{int(delta // size)} {unit} ago"
    return f"{int(delta)} s ago"
