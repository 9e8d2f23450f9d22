"""Compare rendered files with what is on the live hosts: what `apply` would change."""

import base64
import difflib
import hashlib
import shlex
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ssas_deploy.context.build import Deployment
from ssas_deploy.rendering import RenderedFile
from ssas_deploy.ssh import SshError, as_root, connect, run

MAX_PARALLEL = 16
MISSING = "@@missing"


@dataclass
class FileDrift:
    path: str
    # unchanged | changed | missing | secret differs | secret unchanged | secret not compared
    # | permissions differ (same bytes, another owner, group or mode than the file table's)
    status: str
    service: str | None
    action: str | None
    diff: str = ""


@dataclass(frozen=True)
class LiveFile:
    """One file as read on a live host: its bytes and `owner:group:mode` (mode in octal)."""

    content: bytes
    owner: str
    group: str
    mode: int


@dataclass
class HostDrift:
    host: str
    error: str = ""
    files: list[FileDrift] = field(default_factory=list)

    @property
    def changes(self) -> list[FileDrift]:
        same = ("unchanged", "secret unchanged", "secret not compared")
        return [f for f in self.files if f.status not in same]

    def services(self) -> dict[str, str]:
        """Service -> strongest action its changed files need (restart beats reload)."""
        strength = {"daemon-reload": 0, "reload": 1, "restart": 2}
        result: dict[str, str] = {}
        for item in self.changes:
            if item.service and item.action:
                current = result.get(item.service)
                if current is None or strength[item.action] > strength[current]:
                    result[item.service] = item.action
        return result


def live_drift(deployment: Deployment, files: list[RenderedFile], secrets_known: bool,
               timeout: float = 5.0) -> list[HostDrift]:
    by_host: dict[str, list[RenderedFile]] = {}
    for item in files:
        by_host.setdefault(item.host, []).append(item)
    hosts = deployment.topology.hosts
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(hosts))) as pool:
        return list(pool.map(lambda h: _host_drift(h, by_host.get(h.name, []), secrets_known,
                                                   timeout), hosts))


def _host_drift(host, files: list[RenderedFile], secrets_known: bool,
                timeout: float) -> HostDrift:
    drift = HostDrift(host.name)
    try:
        client = connect(host, timeout)
    except SshError as exc:
        drift.error = str(exc)
        return drift
    try:
        remote = _fetch(client, host, [f.spec.dest for f in files])
    except (OSError, EOFError, ValueError) as exc:
        drift.error = f"reading files on {host.name} failed: {exc}"
        return drift
    finally:
        client.close()
    for item in files:
        drift.files.append(compare(item, remote.get(item.spec.dest), secrets_known))
    return drift


def _fetch(client, host, paths: list[str]) -> dict[str, LiveFile | None]:
    """All files in one round trip: per path `owner:group:mode base64`, base64 so any byte
    survives; None for a path that is not a regular file."""
    script = "; ".join(
        f"printf '@@%s\\n' {shlex.quote(p)}; "
        f"if [ -f {shlex.quote(p)} ]; then stat --printf '%U:%G:%a ' {shlex.quote(p)}; "
        f"base64 -w0 {shlex.quote(p)}; else printf '{MISSING}'; fi; echo"
        for p in paths
    )
    _rc, out, _err = run(client, as_root(host, script))
    return parse_fetched(out.decode())


def parse_fetched(output: str) -> dict[str, LiveFile | None]:
    """The files in `_fetch`'s output, by path (None: missing).

    Raises ValueError on a line that is not `owner:group:mode base64`.
    """
    result: dict[str, LiveFile | None] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("@@") and line != MISSING:
            current = line[2:]
        elif current is not None:
            if line == MISSING:
                result[current] = None
            else:
                attributes, _, encoded = line.partition(" ")
                owner, group, mode = attributes.split(":")
                result[current] = LiveFile(base64.b64decode(encoded), owner, group, int(mode, 8))
            current = None
    return result


def compare(item: RenderedFile, live: LiveFile | None, secrets_known: bool) -> FileDrift:
    """What `apply` would do to one file: its bytes first, then its owner, group and mode
    against the file table (files.py), so a hand-made `chmod 644` of a secret is found too."""
    spec = item.spec
    drift = FileDrift(spec.dest, "unchanged", spec.service, spec.action)
    wanted = item.content.encode()
    remote = live.content if live is not None else None
    if remote is None:
        drift.status = "missing"
    elif spec.secret:
        # Never show a secret's content; without the vault its bytes cannot be compared.
        if not secrets_known:
            drift.status = "secret not compared"
        elif hashlib.sha256(remote).digest() != hashlib.sha256(wanted).digest():
            drift.status = "secret differs"
        else:
            drift.status = "secret unchanged"
    elif remote != wanted:
        drift.status = "changed"
        drift.diff = "".join(difflib.unified_diff(
            remote.decode(errors="replace").splitlines(keepends=True),
            item.content.splitlines(keepends=True),
            fromfile=f"{item.host}:{spec.dest} (live)", tofile=f"{spec.dest} (rendered)"))
    if drift.status in ("unchanged", "secret unchanged", "secret not compared") and live:
        have = (live.owner, live.group, live.mode)
        if have != (spec.owner, spec.group, int(spec.mode, 8)):
            drift.status = "permissions differ"
            drift.diff = (f"{item.host}:{spec.dest}: live {live.owner}:{live.group} "
                          f"{live.mode:04o}, wanted {spec.owner}:{spec.group} {spec.mode}\n")
    return drift
