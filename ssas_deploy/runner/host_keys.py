"""Trust on first use: record the SSH host key of every inventory host not yet pinned.

Ansible's runs go through Mitogen (see `workspace.ansible_environment`), which starts OpenSSH
with `StrictHostKeyChecking yes` when host key checking is on: a host whose key is not in
`<inventory>.known_hosts` yet would be refused. Before a run, OpenSSH itself records the key
of each such host (`StrictHostKeyChecking=accept-new`, a no-op login); a key already pinned
is never replaced, so a host whose key changed is still refused by the run; only a declared
replacement (`restore --to-host`) forgets the old key first (`forget_host_key`).
"""

import subprocess
from pathlib import Path

# One login per new host; an unreachable host is not an error here: the run reports it.
PIN_TIMEOUT_S = 20


def host_key_recorded(known_hosts: Path, address: str, port: int) -> bool:
    """Whether `known_hosts` has a key for `address` (`[address]:port` when port != 22)."""
    if not known_hosts.exists():
        return False
    found = subprocess.run(["ssh-keygen", "-F", _known_name(address, port), "-f", str(known_hosts)],
                           capture_output=True, check=False)
    return found.returncode == 0 and bool(found.stdout.strip())


def pin_new_host_keys(document: dict, known_hosts: Path) -> list[str]:
    """Record the host key of every host of the inventory `document` absent from `known_hosts`.

    `document` is the run's Ansible inventory (`{"all": {"hosts": {name: vars}}}`, vars with
    ansible_host, ansible_port, ansible_user and optionally ansible_ssh_private_key_file).
    Returns the names of the hosts whose key was recorded. Never raises for a host that cannot
    be reached or refuses the login (the run names it).
    """
    pinned = []
    for name, host in (document.get("all", {}).get("hosts") or {}).items():
        address, port = host.get("ansible_host", name), int(host.get("ansible_port", 22))
        if host_key_recorded(known_hosts, address, port):
            continue
        command = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                   "-o", "StrictHostKeyChecking=accept-new",
                   "-o", f"UserKnownHostsFile={known_hosts}", "-p", str(port)]
        if host.get("ansible_ssh_private_key_file"):
            command += ["-o", "IdentitiesOnly=yes", "-i", host["ansible_ssh_private_key_file"]]
        command += [f"{host.get('ansible_user', 'root')}@{address}", "true"]
        try:
            subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=PIN_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            continue
        if host_key_recorded(known_hosts, address, port):
            pinned.append(name)
    return pinned


def forget_host_key(known_hosts: Path, address: str, port: int) -> bool:
    """Remove `address`'s pinned key from `known_hosts` (`ssh-keygen -R`): the replacement is
    a new machine with its own key, even on the old address. True when one was removed."""
    if not known_hosts.exists():
        return False
    result = subprocess.run(["ssh-keygen", "-R", _known_name(address, port),
                             "-f", str(known_hosts)], capture_output=True, text=True, check=False)
    Path(f"{known_hosts}.old").unlink(missing_ok=True)
    return result.returncode == 0 and "updated" in (result.stdout + result.stderr)


def _known_name(address: str, port: int) -> str:
    return address if port == 22 else f"[{address}]:{port}"
