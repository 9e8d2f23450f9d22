"""Connect to every host of a deployment (paramiko, in parallel) and check it.

Preflight only reads: it sends no secrets and changes nothing, so it accepts the host key it
is shown (reported in the ssh check); verifying host keys is the deploying connection's job.
"""

import logging
import shlex
import time
from concurrent.futures import ThreadPoolExecutor

from ssas_deploy.preflight import checks
from ssas_deploy.preflight.report import HostReport, PreflightReport, Status
from ssas_deploy.ssh import SshError, connect, key_description
from ssas_deploy.topology import Host

CONNECT_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 20.0
MAX_PARALLEL = 16

# One round trip gathers every fact; sections start with @@name.
FACTS_SCRIPT = r"""
printf '@@os\n'; cat /etc/os-release 2>/dev/null
printf '@@nproc\n'; nproc 2>/dev/null
printf '@@meminfo\n'; cat /proc/meminfo 2>/dev/null
printf '@@df\n'; df -Pk / 2>/dev/null
printf '@@ss\n'
if command -v ss >/dev/null 2>&1; then ss -ltnpH 2>/dev/null; else echo '@@missing'; fi
printf '@@ntp\n'; timedatectl show -p NTPSynchronized --value 2>/dev/null || true
printf '@@units\n'
systemctl list-units --type=service --state=active --no-legend --plain 2>/dev/null \
  | awk '{print $1}'
"""


class _CommandError(Exception):
    pass


def run_preflight(deployment, force: bool = False, *,
                  timeout: float = CONNECT_TIMEOUT_S) -> PreflightReport:
    """Check every host of `deployment` (a context.build.Deployment) against its profile.

    Hardware shortfalls (CPU, RAM, disk) fail unless `force`, which reports them as warnings.
    Everything else (unreachable, authentication, sudo, OS, ports, clock) always fails.
    """
    start = time.monotonic()
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    hosts = deployment.topology.hosts
    with ThreadPoolExecutor(max_workers=max(1, min(len(hosts), MAX_PARALLEL))) as pool:
        reports = list(pool.map(lambda h: check_host(deployment, h, force, timeout), hosts))
    return PreflightReport(deployment.profile.name, reports, force, time.monotonic() - start)


def check_host(deployment, host: Host, force: bool, timeout: float) -> HostReport:
    report = HostReport(host.name, host.address, tuple(sorted(r.value for r in host.roles)))
    try:
        _check_host(deployment, host, force, timeout, report)
    except _CommandError as exc:
        report.add("commands", Status.fail, f"on {host.name}: {exc}")
    except Exception as exc:  # one host's surprise must not hide the other hosts' results
        report.add("preflight", Status.fail, f"unexpected error: {type(exc).__name__}: {exc}")
    return report


def _check_host(deployment, host: Host, force: bool, timeout: float,
                report: HostReport) -> None:
    try:
        client = connect(host, timeout)
    except SshError as exc:
        if exc.stage == "ssh":
            report.add("reachable", Status.ok, f"{host.address}:{host.ssh.port} answers")
        report.add(exc.stage, Status.fail, str(exc))
        return
    report.add("reachable", Status.ok, f"{host.address}:{host.ssh.port} answers")
    key_text = key_description(host)
    try:
        _checks_over_ssh(client, deployment, host, force, report, key_text)
    finally:
        client.close()


def _checks_over_ssh(client, deployment, host: Host, force: bool, report: HostReport,
                     key_text: str) -> None:
    user = host.ssh.user
    host_key = client.get_transport().get_remote_server_key()
    report.add("ssh", Status.ok, f"{user} with {key_text} (host key {host_key.fingerprint})")
    as_root = user == "root"
    if as_root:
        report.add("sudo", Status.ok, "connected as root")
        sudo_ok = True
    else:
        rc, _out, err = _run(client, "sudo -n true")
        sudo_ok = rc == 0
        if sudo_ok:
            report.add("sudo", Status.ok, f"{user} has passwordless sudo")
        else:
            report.add("sudo", Status.fail, f"{user} cannot sudo without a password"
                                            + (f": {err.strip().splitlines()[-1]}"
                                               if err.strip() else ""))
    script = FACTS_SCRIPT if as_root or not sudo_ok else (
        f"sudo -n sh -c {shlex.quote(FACTS_SCRIPT)}")
    _rc, output, _err = _run(client, script)
    facts = _sections(output)

    ok, message = checks.check_os(checks.parse_os_release(facts.get("os", "")))
    report.add("os", Status.ok if ok else Status.fail, message)

    spec = host.hardware
    hardware: list[tuple[str, bool, str]] = []
    try:
        hardware.append(("cpu", *checks.check_cpu(int(facts.get("nproc", "").strip()), spec)))
    except ValueError:
        report.add("cpu", Status.fail, "could not read the number of cores (nproc)")
    try:
        hardware.append(("memory", *checks.check_memory(
            checks.parse_meminfo(facts.get("meminfo", "")), spec)))
    except ValueError:
        report.add("memory", Status.fail, "could not read MemTotal from /proc/meminfo")
    try:
        hardware.append(("disk", *checks.check_disk(*checks.parse_df(facts.get("df", "")),
                                                    spec)))
    except (ValueError, IndexError):
        report.add("disk", Status.fail, "could not read the size of / (df -Pk /)")
    for name, ok, message in hardware:
        if ok:
            report.add(name, Status.ok, message, hardware=True)
        elif force:
            report.add(name, Status.warn, f"{message} (continuing: --force)", hardware=True)
        else:
            report.add(name, Status.fail, message, hardware=True)

    needs = checks.required_ports(deployment.profile, deployment.topology, host)
    ss_output = facts.get("ss", "")
    if ss_output.strip() == "@@missing":
        report.add("ports", Status.warn, "`ss` (iproute2) is not installed: ports not checked")
    else:
        active = set(facts.get("units", "").split())
        ok, message = checks.check_ports(needs, checks.parse_listeners(ss_output), active)
        report.add("ports", Status.ok if ok else Status.fail, message)

    before = time.time()
    rc, output, _err = _run(client, "date +%s.%N")
    after = time.time()
    try:
        offset = float(output.strip()) - (before + after) / 2
    except ValueError:
        report.add("clock", Status.fail, "could not read the remote clock (date +%s.%N)")
    else:
        ok, message = checks.check_clock(offset, facts.get("ntp", "").strip())
        report.add("clock", Status.ok if ok else Status.fail, message)


def _run(client, command: str) -> tuple[int, str, str]:
    try:
        _stdin, stdout, stderr = client.exec_command(command, timeout=COMMAND_TIMEOUT_S)
        out = stdout.read().decode(errors="replace")
        err = stderr.read().decode(errors="replace")
        return stdout.channel.recv_exit_status(), out, err
    except (OSError, EOFError) as exc:
        raise _CommandError(f"`{command.split()[0]}` over SSH failed: {exc}") from exc


def _sections(output: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("@@") and line != "@@missing":
            current = line[2:]
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: "\n".join(v) for k, v in sections.items()}
