"""Commands on a deployment's hosts for a migration, over the CLI's own SSH (ssas_deploy.ssh).

- `manage`: `ssas-env ssas-manage ARGS` on a host (the app's environment, as its user),
  output returned; a non-zero exit raises RemoteError naming the host and command.
- `stream_copy`: `export_tables` on one host piped into `import_tables` on another through
  the control node, chunk by chunk in memory (nothing written to the control node's disk);
  `media_copy` and `file_digests` do the same for the media directory (tar, sha256sum).
- `app_units` / `set_units`: stop or start the app's gunicorn and Celery units.
"""

import shlex
import threading
import time
from dataclasses import dataclass

from ssas_deploy.errors import OperationFailedError
from ssas_deploy.ssh import SshError, as_root, connect
from ssas_deploy.topology import Host

CONNECT_TIMEOUT_S = 10.0
CHUNK_BYTES = 256 * 1024
MANAGE = "ssas-env ssas-manage"


class RemoteError(OperationFailedError):
    """A command on a host failed; the message names host, command and its last output."""


@dataclass(frozen=True)
class CopyResult:
    """What `stream_copy` moved: bytes through the control node, seconds, import's summary."""

    bytes: int
    seconds: float
    summary: str


def _client(host: Host):
    try:
        return connect(host, CONNECT_TIMEOUT_S)
    except SshError as exc:
        raise RemoteError(str(exc)) from None


def run_on(host: Host, command: str, timeout: float = 1800,
           stdin: str | bytes | None = None) -> str:
    """Run `command` as root on `host`, `stdin` (if given) on its standard input; its stdout
    (text). RemoteError on failure."""
    client = _client(host)
    try:
        channel_in, stdout, stderr = client.exec_command(as_root(host, command),
                                                         timeout=timeout)
        if stdin is not None:
            channel_in.write(stdin)
            channel_in.channel.shutdown_write()
        output = stdout.read()
        errors = stderr.read().decode(errors="replace")
        code = stdout.channel.recv_exit_status()
    except (OSError, EOFError) as exc:
        raise RemoteError(f"{host.name}: `{_short(command)}` lost its connection: "
                          f"{exc or type(exc).__name__}") from None
    finally:
        client.close()
    if code != 0:
        raise RemoteError(f"{host.name}: `{_short(command)}` exited {code}: "
                          f"{_tail(errors)}")
    return output.decode(errors="replace")


def manage(host: Host, *args: str, timeout: float = 1800,
           stdin: str | bytes | None = None) -> str:
    """`ssas-manage ARGS` in the app's environment on `host` (`stdin` on its standard
    input); its stdout."""
    return run_on(host, f"{MANAGE} {shlex.join(args)}", timeout, stdin)


def set_units(host: Host, units: list[str], action: str) -> None:
    """`systemctl ACTION UNITS` on `host` (action: start or stop); RemoteError on failure."""
    if units:
        run_on(host, f"systemctl {action} {' '.join(shlex.quote(u) for u in units)}", 300)


def stream_copy(source: Host, target: Host, timeout: float = 7200) -> CopyResult:
    """Pipe `export_tables` on `source` into `import_tables` on `target`.

    The data passes through this process in CHUNK_BYTES pieces; it is never written to
    disk here. The import is one transaction: if either side fails, the target keeps
    nothing. Raises RemoteError naming the side that failed and its last stderr lines.
    """
    return pipe(source, f"{MANAGE} export_tables", target, f"{MANAGE} import_tables", timeout)


def media_copy(source: Host, target: Host, directory: str, timeout: float = 7200) -> CopyResult:
    """Copy the files under `directory` from `source` to the same place on `target` (tar
    through this process, owners and modes kept). A missing source directory is empty."""
    quoted = shlex.quote(directory)
    return pipe(source, f"if [ -d {quoted} ]; then tar -C {quoted} -cf - .; "
                        "else tar -cf - -T /dev/null; fi",
                target, f"mkdir -p {quoted} && tar -C {quoted} -xpf -", timeout)


def file_digests(host: Host, directory: str) -> dict[str, str]:
    """relative path -> sha256 of every file under `directory` on `host` ({} if absent)."""
    quoted = shlex.quote(directory)
    text = run_on(host, f"[ -d {quoted} ] || exit 0; cd {quoted} && "
                        "find . -type f -print0 | sort -z | xargs -0 -r sha256sum", 1800)
    digests = {}
    for line in text.splitlines():
        digest, _, path = line.partition("  ")
        if path:
            digests[path] = digest
    return digests


def pipe(source: Host, source_command: str, target: Host, target_command: str,
         timeout: float = 7200) -> CopyResult:
    """stdout of `source_command` (root on `source`) into the stdin of `target_command`
    (root on `target`), through this process in memory. RemoteError when either fails."""
    started = time.monotonic()
    source_client, target_client = _client(source), _client(target)
    try:
        exporter = source_client.get_transport().open_session()
        importer = target_client.get_transport().open_session()
        for channel in (exporter, importer):
            channel.settimeout(timeout)
        exporter.exec_command(as_root(source, source_command))
        importer.exec_command(as_root(target, target_command))
        import_out, import_err, export_err = bytearray(), bytearray(), bytearray()
        drains = [threading.Thread(target=_drain, args=(importer.recv, import_out), daemon=True),
                  threading.Thread(target=_drain, args=(importer.recv_stderr, import_err),
                                   daemon=True),
                  threading.Thread(target=_drain, args=(exporter.recv_stderr, export_err),
                                   daemon=True)]
        for thread in drains:
            thread.start()
        moved, importer_stopped = 0, False
        try:
            while True:
                chunk = exporter.recv(CHUNK_BYTES)
                if not chunk:
                    break
                importer.sendall(chunk)
                moved += len(chunk)
        except OSError as exc:
            if not importer.exit_status_ready():
                raise RemoteError(f"copy {source.name} -> {target.name} broke after "
                                  f"{moved} bytes: {exc or type(exc).__name__}") from None
            importer_stopped = True  # it failed early: its own message says why (below)
        if importer_stopped:
            exporter.close()  # nobody reads its output any more: do not wait for it
            export_code = 0
        else:
            export_code = exporter.recv_exit_status()
        importer.shutdown_write()
        import_code = importer.recv_exit_status()
        for thread in drains:
            thread.join(60)
    except (OSError, EOFError) as exc:
        raise RemoteError(f"copy {source.name} -> {target.name} failed: "
                          f"{exc or type(exc).__name__}") from None
    finally:
        source_client.close()
        target_client.close()
    if export_code != 0:
        raise RemoteError(f"{source.name}: `{_short(source_command)}` exited {export_code}: "
                          f"{_tail(export_err.decode(errors='replace'))}")
    if import_code != 0:
        raise RemoteError(f"{target.name}: `{_short(target_command)}` exited {import_code}: "
                          f"{_tail(import_err.decode(errors='replace'))}")
    return CopyResult(moved, time.monotonic() - started,
                      import_out.decode(errors="replace").strip())


def _drain(read, into: bytearray) -> None:
    try:
        while True:
            data = read(65536)
            if not data:
                return
            into.extend(data)
    except OSError:
        return


def _tail(text: str, lines: int = 5) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[-800:] or "(no message)"


def _short(command: str) -> str:
    return command if len(command) < 120 else command[:117] + "..."
