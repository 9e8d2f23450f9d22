"""A profile's topology as local systemd containers with sshd, and a ready inventory.

Every container runs the shared test-host image (Debian 12, systemd, sshd, python3) under
rootful podman, gets its own address on podman's bridge (reachable from this machine) and the
sandbox's SSH key for root. `up` is idempotent and leaves nothing half-made when it fails.
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ssas_deploy.errors import OperationFailedError
from ssas_deploy.profiles.models import Profile
from ssas_deploy.sandbox import podman as pm
from ssas_deploy.sandbox.keys import PRIVATE_KEY, ensure_keypair
from ssas_deploy.topology import Host, build_topology

LABEL = "ssas-deploy.sandbox"
LABEL_HOST = "ssas-deploy.sandbox.host"
LABEL_ROLES = "ssas-deploy.sandbox.roles"
LABEL_DIR = "ssas-deploy.sandbox.dir"
DEFAULT_IMAGE = "localhost/ssas-testhost:bookworm"
INVENTORY = "hosts.yaml"
SANDBOX_ROOT = ".ssas-sandbox"
# Creating a container is CPU-bound (podman, runc, then systemd booting inside); more than a
# few at once only makes them queue for the same cores.
CREATE_WORKERS = 3
SSH_TIMEOUT = 120.0
# NET_ADMIN, NET_RAW: nftables, ping-style checks. SYS_ADMIN: systemd in the container can
# then set up the mount namespaces of the units' sandboxing (ProtectSystem=strict, ...), as
# on a real host; without it systemd silently runs them unsandboxed.
CAPABILITIES = ("NET_ADMIN", "NET_RAW", "SYS_ADMIN")

Log = Callable[[str], None]


@dataclass(frozen=True)
class SandboxHost:
    name: str
    group: str  # the role whose hosts this one belongs to (the inventory's key)
    roles: tuple[str, ...]
    container: str
    address: str
    state: str  # created | started | reused


@dataclass(frozen=True)
class Sandbox:
    profile: str
    directory: Path
    inventory: Path
    key_file: Path
    hosts: tuple[SandboxHost, ...]
    seconds: float


@dataclass(frozen=True)
class SandboxContainer:
    container: str
    profile: str
    host: str
    roles: str
    state: str
    address: str
    directory: str


def image_name() -> str:
    return os.environ.get("SSAS_TESTHOST_IMAGE") or DEFAULT_IMAGE


def container_name(profile: str, host: str) -> str:
    return f"ssas-sb-{profile}-{host}"


def default_directory(profile: str) -> Path:
    return Path.cwd() / SANDBOX_ROOT / profile


def _quiet(_message: str) -> None:
    pass


# --- up ----------------------------------------------------------------------------------
def up(profile: Profile, directory: Path | None = None, *, log: Log = _quiet) -> Sandbox:
    start = time.monotonic()
    pm.podman_binary()
    _require_root()
    image = image_name()
    ensure_image(image, log)
    directory = (directory or default_directory(profile.name)).resolve()
    topology = build_topology(profile)
    made_dir = not directory.exists()
    made_files: list[Path] = []
    made_containers: list[str] = []
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key_file, public_key, new_key = ensure_keypair(directory)
        if new_key:
            made_files += [key_file, key_file.with_name(f"{PRIVATE_KEY}.pub")]
        states = _start_containers(profile.name, topology.hosts, directory, image,
                                   made_containers, log)
        hosts = _finish_hosts(profile.name, topology.hosts, states, public_key, log)
        inventory = directory / INVENTORY
        if not inventory.exists():
            made_files.append(inventory)
        write_inventory(inventory, profile.name, key_file, hosts)
    except BaseException as exc:
        _undo(made_containers, made_files, directory if made_dir else None, log)
        if isinstance(exc, KeyboardInterrupt):
            raise OperationFailedError("interrupted; removed what this run had created") from None
        raise
    return Sandbox(profile.name, directory, inventory, key_file, tuple(hosts),
                   time.monotonic() - start)


def _require_root() -> None:
    if os.geteuid() != 0:
        raise OperationFailedError(
            "the sandbox needs root: rootful podman runs the systemd containers and gives them "
            "addresses this machine can reach (run it with sudo)")


def ensure_image(image: str, log: Log = _quiet, script: Path | None = None) -> None:
    """Build the base image with the checkout's scripts/testhosts.sh when it is missing."""
    if pm.image_exists(image):
        return
    script = script or Path(__file__).resolve().parents[2] / "scripts" / "testhosts.sh"
    if not script.is_file():
        raise OperationFailedError(
            f"base image {image} is missing: build it with `bash scripts/testhosts.sh setup` "
            "(as root, from an ssas-deploy checkout)")
    log(f"base image {image} is missing: building it with {script} setup (about a minute)")
    env = {**os.environ, "SSAS_TESTHOST_IMAGE": image}
    result = subprocess.run(["bash", str(script), "setup"], env=env, stdout=sys.stderr,
                            check=False)
    if result.returncode != 0 or not pm.image_exists(image):
        raise OperationFailedError(f"building the base image {image} failed "
                                   f"(`bash {script} setup` exited {result.returncode})")


def _start_containers(profile: str, hosts: tuple[Host, ...], directory: Path, image: str,
                      made: list[str], log: Log) -> dict[str, str]:
    """Create, start or reuse one container per host; returns host name -> what was done."""
    existing = {c["Labels"].get(LABEL_HOST): c for c in pm.list_containers(f"{LABEL}={profile}")}
    wanted = {h.name for h in hosts}
    stale = [c["Names"][0] for name, c in existing.items() if name not in wanted]
    if stale:
        log(f"removing {len(stale)} container(s) no longer in the profile: {', '.join(stale)}")
        pm.podman(["rm", "-f", "-t", "2", *stale])
    states: dict[str, str] = {}
    to_create: list[Host] = []
    to_start: list[str] = []
    for host in hosts:
        name = container_name(profile, host.name)
        found = existing.get(host.name)
        if found is None:
            if pm.container_exists(name):
                raise OperationFailedError(f"a container named {name} exists but is not part "
                                           f"of a sandbox; remove or rename it first")
            to_create.append(host)
            states[host.name] = "created"
        elif found.get("State") == "running":
            states[host.name] = "reused"
        else:
            to_start.append(name)
            states[host.name] = "started"
    if to_start:
        log(f"starting {len(to_start)} stopped container(s)")
        pm.podman(["start", *to_start])
    if to_create:
        log(f"creating {len(to_create)} container(s) from {image}")
        lock = threading.Lock()
        options = pm.runtime_options()

        def create(host: Host) -> None:
            name = container_name(profile, host.name)
            try:
                pm.podman(["run", "-d", "--name", name, "--hostname", host.name,
                           "--label", f"{LABEL}={profile}",
                           "--label", f"{LABEL_HOST}={host.name}",
                           "--label", f"{LABEL_ROLES}={','.join(_roles(host))}",
                           "--label", f"{LABEL_DIR}={directory}",
                           "--systemd=always",
                           *(f"--cap-add={cap}" for cap in CAPABILITIES),
                           *options, image, "/sbin/init"])
            finally:
                # Recorded even when `run` failed: podman may have left a created container.
                with lock:
                    made.append(name)

        with ThreadPoolExecutor(max_workers=min(CREATE_WORKERS, len(to_create))) as pool:
            for future in [pool.submit(create, h) for h in to_create]:
                future.result()
    return states


def _finish_hosts(profile: str, hosts: tuple[Host, ...], states: dict[str, str],
                  public_key: str, log: Log) -> list[SandboxHost]:
    names = [container_name(profile, h.name) for h in hosts]
    inspected = {i["Name"].lstrip("/"): i for i in pm.inspect(names)}
    result = []
    for host, name in zip(hosts, names, strict=True):
        info = inspected.get(name) or {}
        address = pm.address_of(info)
        if not (info.get("State") or {}).get("Running") or not address:
            raise OperationFailedError(f"container {name} (host {host.name}) failed to boot"
                                       f"{_logs_tail(name)}")
        result.append(SandboxHost(host.name, host.group.value, _roles(host), name, address,
                                  states[host.name]))
    log(f"installing the SSH key and waiting for sshd on {len(result)} host(s)")
    with ThreadPoolExecutor(max_workers=len(result)) as pool:
        futures = [pool.submit(_ready_host, h, public_key) for h in result]
        for future in futures:
            future.result()
    return result


def _ready_host(host: SandboxHost, public_key: str) -> None:
    script = ('umask 077; mkdir -p /root/.ssh; f=/root/.ssh/authorized_keys; touch "$f"; '
              'grep -qxF "$1" "$f" || printf "%s\\n" "$1" >> "$f"')
    pm.podman(["exec", host.container, "sh", "-c", script, "sh", public_key])
    deadline = time.monotonic() + SSH_TIMEOUT
    while time.monotonic() < deadline:
        if ssh_banner(host.address, 22, timeout=2.0):
            return
        time.sleep(0.3)
    raise OperationFailedError(f"sshd on {host.name} ({host.address}:22, container "
                               f"{host.container}) did not answer within {SSH_TIMEOUT:.0f} s"
                               f"{_logs_tail(host.container)}")


def ssh_banner(address: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            return conn.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def _logs_tail(container: str) -> str:
    result = pm.podman(["logs", "--tail", "5", container], check=False, timeout=15)
    lines = (result.stdout + result.stderr).strip()
    return f"; last log lines:\n{lines}" if lines else f"; see `podman logs {container}`"


def _roles(host: Host) -> tuple[str, ...]:
    return tuple(sorted(r.value for r in host.roles))


def _undo(containers: list[str], files: list[Path], directory: Path | None, log: Log) -> None:
    if containers:
        log(f"removing the {len(containers)} container(s) this run created")
        pm.podman(["rm", "-f", "-t", "2", "--ignore", *containers], check=False)
    for file in files:
        file.unlink(missing_ok=True)
    if directory is not None:
        _remove_empty(directory)


def write_inventory(path: Path, profile: str, key_file: Path, hosts: list[SandboxHost]) -> None:
    """The hosts.yaml format of `--inventory`; strings are JSON-quoted (valid YAML)."""
    lines = [
        f"# Sandbox inventory for profile '{profile}', written by `ssas-deploy sandbox up`.",
        "# The hosts are local systemd containers; remove them with",
        f"# `ssas-deploy sandbox down --profile {profile}`.",
        "ssh:",
        "  user: root",
        "  port: 22",
        f"  key_file: {json.dumps(str(key_file))}",
        "hosts:",
    ]
    groups: dict[str, list[SandboxHost]] = {}
    for host in hosts:
        groups.setdefault(host.group, []).append(host)
    for group, members in groups.items():
        lines.append(f"  {group}:")
        lines += [f"    - {{name: {h.name}, address: {json.dumps(h.address)}}}" for h in members]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)


# --- down / status -----------------------------------------------------------------------
def down(profile: str | None, *, purge: bool = False, directory: Path | None = None,
         log: Log = _quiet) -> tuple[list[str], list[Path]]:
    """Remove a profile's sandbox (or every sandbox when profile is None).

    Returns the removed container names and, with purge, the directories cleaned: only the
    files `up` writes are deleted, and a directory only when that leaves it empty.
    """
    pm.podman_binary()
    _require_root()
    containers = pm.list_containers(f"{LABEL}={profile}" if profile else LABEL)
    names = [c["Names"][0] for c in containers]
    if names:
        log(f"removing {len(names)} container(s)")
        pm.podman(["rm", "-f", "-t", "2", *names])
    cleaned: list[Path] = []
    if purge:
        dirs = {Path(d) for c in containers if (d := c["Labels"].get(LABEL_DIR))}
        if directory is not None:
            dirs.add(directory.resolve())
        for path in sorted(dirs):
            if path.is_dir():
                purge_directory(path)
                cleaned.append(path)
    return names, cleaned


def written_for(inventory: Path) -> list[Path]:
    """What `up`, `apply` and the day-2 verbs write beside a sandbox's `inventory`: its key,
    the inventory, the secrets vault, the pinned host keys, the last apply's log and record,
    the last restore's record, an imported TLS chain, inventories kept by `restore
    --to-host` (`.before-restore`, `.before-restore-YYYYMMDDHHMMSS`) and its staged copies
    left by a crash, and the handover report's two files. Files only, existing or not."""
    from ssas_deploy.handover.report import HTML_NAME, MARKDOWN_NAME, default_out_dir
    from ssas_deploy.inventory import known_hosts_for
    from ssas_deploy.release_status import last_apply_record, last_restore_record
    from ssas_deploy.restore.replacement import BEFORE_SUFFIX
    from ssas_deploy.runner.apply import last_log_for
    from ssas_deploy.secrets.store import vault_path_for
    from ssas_deploy.tls.provided import chain_path_for

    directory = inventory.parent
    kept = re.compile(re.escape(f"{inventory.name}{BEFORE_SUFFIX}") + r"(-\d{14})?")
    handover = default_out_dir(inventory)
    # A linked handover folder is somewhere else of the user's: not ours to empty.
    reports = [] if handover.is_symlink() else [handover / MARKDOWN_NAME, handover / HTML_NAME]
    kept_inventories = sorted(p for p in directory.iterdir() if kept.fullmatch(p.name)) \
        if directory.is_dir() else []
    return [directory / PRIVATE_KEY, directory / f"{PRIVATE_KEY}.pub", inventory,
            vault_path_for(inventory), known_hosts_for(inventory), last_log_for(inventory),
            last_apply_record(inventory), last_restore_record(inventory),
            chain_path_for(inventory), *reports, directory / f".{inventory.name}.to-host",
            directory / f".{inventory.name}.to-host-check", *kept_inventories]


def purge_directory(directory: Path) -> None:
    """Delete what `written_for` names in a sandbox's `directory` (nothing else: a file of
    the user's stays), then the handover folder and the directory itself when that leaves
    them empty."""
    from ssas_deploy.handover.report import default_out_dir

    inventory = directory / INVENTORY
    for path in written_for(inventory):
        if not path.is_dir():
            path.unlink(missing_ok=True)
    handover = default_out_dir(inventory)
    if handover.is_dir() and not handover.is_symlink():
        _remove_empty(handover)
    _remove_empty(directory)


def _remove_empty(directory: Path) -> None:
    try:
        directory.rmdir()
        if directory.parent.name == SANDBOX_ROOT:
            directory.parent.rmdir()
    except OSError:
        pass


def status(profile: str | None = None) -> list[SandboxContainer]:
    containers = pm.list_containers(f"{LABEL}={profile}" if profile else LABEL)
    names = [c["Names"][0] for c in containers]
    inspected = {i["Name"].lstrip("/"): i for i in pm.inspect(names)}
    rows = []
    for c in containers:
        name = c["Names"][0]
        labels = c.get("Labels") or {}
        rows.append(SandboxContainer(
            container=name, profile=labels.get(LABEL, ""), host=labels.get(LABEL_HOST, ""),
            roles=labels.get(LABEL_ROLES, "").replace(",", ", "), state=c.get("State", ""),
            address=pm.address_of(inspected.get(name, {})) or "-",
            directory=labels.get(LABEL_DIR, ""),
        ))
    return sorted(rows, key=lambda r: (r.profile, r.container))
