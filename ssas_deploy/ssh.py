"""Paramiko connections to managed hosts, with errors that say which step failed."""

import fcntl
import logging
import os
import re
import shlex
import socket
import threading
from pathlib import Path

from ssas_deploy.topology import Host

COMMAND_TIMEOUT_S = 20.0

# paramiko's transport thread logs its own failures with a traceback (ERROR); with no
# handler anywhere, Python's last-resort handler prints them on stderr beside our one
# clear SshError. The NullHandler keeps them out of the user's terminal.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

_SAFE = re.compile(r"[\w@%+=:,./~-]+")


def shell_word(text: str) -> str:
    """`text` as one shell word: unchanged when it is plain (so `~/` still expands), else
    single-quoted."""
    return text if _SAFE.fullmatch(text) else shlex.quote(text)


def ssh_prefix(host: Host, *, tty: bool = False) -> str:
    """`ssh [-t] [-p PORT] [-i KEY] USER@ADDRESS` for `host`, from the inventory's SSH
    details (port 22 and no key file are left out)."""
    parts = ["ssh"]
    if tty:
        parts.append("-t")
    if host.ssh.port != 22:
        parts += ["-p", str(host.ssh.port)]
    if host.ssh.key_file:
        parts += ["-i", shell_word(host.ssh.key_file)]
    parts.append(shell_word(f"{host.ssh.user}@{host.address}"))
    return " ".join(parts)


class SshError(Exception):
    """`stage` is 'reachable' (TCP) or 'ssh' (handshake or authentication)."""

    def __init__(self, stage: str, message: str):
        self.stage = stage
        super().__init__(message)


def key_description(host: Host) -> str:
    key = host.ssh.key_file
    return f"key {Path(os.path.expanduser(key))}" if key else "the SSH agent / default keys"


_PIN_LOCK = threading.Lock()


def _pin_on_first_use(known_hosts: Path):
    """A paramiko policy: a host absent from `known_hosts` gets its key appended there (as
    OpenSSH's StrictHostKeyChecking=accept-new does for `apply`); a known host with another
    key is refused by paramiko itself (BadHostKeyException). Appends under a lock, never
    rewrites the file, so concurrent first connections all get recorded, once."""
    import paramiko

    class PinOnFirstUse(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client, hostname, key):
            line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
            with _PIN_LOCK, open(known_hosts, "a+", encoding="ascii") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.seek(0)
                if line not in handle.read():  # another process pinned it meanwhile
                    handle.write(line)

    return PinOnFirstUse()


def _host_key_policy(client, target) -> None:
    """Load the inventory's pinned keys into `client` and pin new ones (see above); without
    an inventory (a bare SshTarget) any key is accepted and nothing is recorded."""
    import paramiko

    if not target.known_hosts:
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        return
    known_hosts = Path(target.known_hosts)
    known_hosts.touch(mode=0o600, exist_ok=True)
    client.get_host_keys().load(str(known_hosts))
    client.set_missing_host_key_policy(_pin_on_first_use(known_hosts))


def connect(host: Host, timeout: float):
    """An authenticated paramiko client for `host`, or SshError naming what failed.

    The host key is checked against the inventory's `<inventory>.known_hosts`, the file
    `apply`'s OpenSSH uses: a new host is pinned there, a changed key is refused (stage
    'ssh', naming the file and how to forget a machine replaced on purpose).
    """
    import paramiko

    target = host.ssh
    where = f"{host.name} at {host.address}:{target.port}"
    try:
        sock = socket.create_connection((host.address, target.port), timeout=timeout)
    except OSError as exc:
        reason = (f"no answer within {timeout:g} s" if isinstance(exc, TimeoutError)
                  else (exc.strerror or str(exc)))
        raise SshError("reachable", f"cannot reach {where}: {reason}") from None
    key_file = str(Path(os.path.expanduser(target.key_file))) if target.key_file else None
    if key_file and not Path(key_file).is_file():
        sock.close()
        raise SshError("ssh", f"key file {key_file} for {target.user}@{host.name} "
                              "does not exist")
    client = paramiko.SSHClient()
    try:
        _host_key_policy(client, target)
    except (OSError, paramiko.SSHException) as exc:
        sock.close()
        raise SshError("ssh", f"cannot read or create the pinned host keys file "
                              f"{target.known_hosts}: {exc}") from None
    try:
        client.connect(host.address, port=target.port, username=target.user,
                       key_filename=key_file, sock=sock, timeout=timeout,
                       banner_timeout=timeout, auth_timeout=timeout,
                       look_for_keys=key_file is None, allow_agent=key_file is None)
    except paramiko.BadHostKeyException:
        sock.close()
        known = (f"[{host.address}]:{target.port}" if target.port != 22 else host.address)
        raise SshError("ssh", f"the SSH host key of {where} is not the one pinned in "
                              f"{target.known_hosts}: refusing to connect. If the machine was "
                              f"replaced on purpose, forget the old key with `ssh-keygen -R "
                              f"'{known}' -f {target.known_hosts}` (restore --to-host does "
                              "this for a restored host)") from None
    except paramiko.AuthenticationException:
        sock.close()
        raise SshError("ssh", f"authentication failed for user {target.user} with "
                              f"{key_description(host)} on {where}") from None
    except (paramiko.SSHException, OSError) as exc:
        sock.close()
        raise SshError("ssh", f"SSH handshake with {where} failed: {exc or 'closed'}") from None
    return client


def run(client, command: str, timeout: float = COMMAND_TIMEOUT_S) -> tuple[int, bytes, str]:
    """Exit status, raw stdout and stderr text of one command.

    `timeout` (seconds) bounds each read of the channel; a silent command that outlives it
    raises TimeoutError (an OSError).
    """
    _stdin, stdout, stderr = client.exec_command(command, timeout=timeout)
    out = stdout.read()
    err = stderr.read().decode(errors="replace")
    return stdout.channel.recv_exit_status(), out, err


def as_root(host: Host, command: str) -> str:
    """`command` run as root: directly when we log in as root, else through sudo -n."""
    import shlex

    return command if host.ssh.user == "root" else f"sudo -n sh -c {shlex.quote(command)}"
