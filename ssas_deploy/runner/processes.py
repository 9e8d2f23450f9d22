"""Every process of one ansible-playbook run, found and stopped even when orphaned.

ansible-playbook is started as the leader of its own session and process group, but Ansible's
workers call setsid() themselves, so a signal to the group does not reach them, and if the
leader dies they (and the commands they run) are orphaned. On Linux the runner therefore becomes
a child subreaper while the run lasts (prctl PR_SET_CHILD_SUBREAPER): orphaned descendants are
re-parented to it instead of to init, so every process of the run stays in its process tree
until it is gone, and is found through /proc. Without /proc (other systems) only the leader's
process group is tracked.
"""

import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen

# How long ansible-playbook gets to stop after SIGINT (it ends its current step, tells its
# workers and exits), then after SIGTERM, before every process of the run is killed.
INTERRUPT_GRACE_S = 20.0
TERM_GRACE_S = 5.0
KILL_WAIT_S = 5.0

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_PROC = Path("/proc")


@dataclass(frozen=True)
class _Proc:
    pid: int
    ppid: int
    pgrp: int
    state: str
    start: int  # clock ticks after boot: with pid, identifies a process across pid reuse


def _snapshot() -> dict[int, _Proc]:
    """Every process in /proc (empty where there is no /proc)."""
    if not _PROC.is_dir():
        return {}
    table = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp session tty tpgid flags ... starttime(22) ...": comm may
        # hold spaces and parentheses, so split after its closing parenthesis.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) < 20:
            continue
        pid = int(entry.name)
        table[pid] = _Proc(pid, int(fields[1]), int(fields[2]), fields[0], int(fields[19]))
    return table


def _prctl(option: int, value) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _is_subreaper() -> bool:
    flag = ctypes.c_int(0)
    return _prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag)) and bool(flag.value)


class RunProcesses:
    """The processes of one run: use as `with RunProcesses() as run: run.leader = Popen(...)`.

    Entering makes this process a child subreaper (Linux) and remembers its existing children,
    which are never touched; leaving reaps the run's orphans that ended and restores the
    subreaper flag. Not meant for a program that starts other subprocesses from other threads
    during the run (their exit status could be collected here).
    """

    def __init__(self) -> None:
        self.leader: Popen | None = None
        self._before: set[tuple[int, int]] = set()
        self._was_subreaper = False

    def __enter__(self) -> "RunProcesses":
        self._was_subreaper = _is_subreaper()
        if not self._was_subreaper:
            _prctl(_PR_SET_CHILD_SUBREAPER, 1)
        me = os.getpid()
        self._before = {(p.pid, p.start) for p in _snapshot().values() if p.ppid == me}
        return self

    def __exit__(self, *exc) -> None:
        self.reap()
        if not self._was_subreaper:
            _prctl(_PR_SET_CHILD_SUBREAPER, 0)

    def alive(self) -> list[int]:
        """Pids of the run's live (not zombie) processes: the leader's group and every
        descendant of this process that is not an earlier child or one of its descendants."""
        if self.leader is None:
            return []
        table = _snapshot()
        if not table:
            try:
                os.killpg(self.leader.pid, 0)
            except (ProcessLookupError, PermissionError):
                return []
            return [self.leader.pid]
        children: dict[int, list[int]] = {}
        for proc in table.values():
            children.setdefault(proc.ppid, []).append(proc.pid)
        roots = [pid for pid in children.get(os.getpid(), [])
                 if (pid, table[pid].start) not in self._before]
        found = {p.pid for p in table.values() if p.pgrp == self.leader.pid}
        visited: set[int] = set()
        while roots:
            pid = roots.pop()
            if pid not in visited:
                visited.add(pid)
                found.add(pid)
                roots.extend(children.get(pid, []))
        return sorted(pid for pid in found
                      if pid in table and table[pid].state not in ("Z", "X")
                      and pid != os.getpid())

    def reap(self) -> None:
        """Collect the exit status of the run's orphans that were re-parented here and ended
        (never the leader's, which its Popen collects, nor an earlier child's)."""
        me = os.getpid()
        for proc in _snapshot().values():
            if (proc.ppid == me and proc.state == "Z" and (proc.pid, proc.start) not in
                    self._before and (self.leader is None or proc.pid != self.leader.pid)):
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(proc.pid, os.WNOHANG)

    def gone(self) -> bool:
        """True once the leader has exited (and is reaped) and no process of the run is left."""
        if self.leader is None:
            return True
        self.reap()
        return self.leader.poll() is not None and not self.alive()

    def send(self, signum: int, *, group_only: bool = False) -> None:
        """Send `signum` to the leader's process group and, unless `group_only`, to every
        other live process of the run. Processes already gone are skipped silently."""
        if self.leader is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.leader.pid, signum)
        if group_only:
            return
        for pid in self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)


def stop_run(run: RunProcesses, *, grace: float = INTERRUPT_GRACE_S,
             term_grace: float = TERM_GRACE_S, kill_wait: float = KILL_WAIT_S,
             first_signal: int = signal.SIGINT,
             signals_seen: Callable[[], int] = lambda: 0) -> bool:
    """Stop every process of `run`, in order.

    SIGINT to the leader's process group (what a Ctrl-C in a terminal would send it: Ansible
    ends its current step, stops its workers and exits), then up to `grace` seconds for every
    process of the run to end; then SIGTERM to all of them and up to `term_grace` s; then
    SIGKILL and up to `kill_wait` s. A rise of `signals_seen()` (the user pressing Ctrl-C
    again) cuts the current wait short. With `first_signal=SIGTERM`, or when the leader has
    already exited, the SIGINT step is skipped.

    The leader is always reaped when it ended. Returns True when no process of the run is left;
    False only if one survived even SIGKILL (e.g. stuck in uninterruptible I/O). Never raises
    for processes that are already gone.
    """
    steps = [(signal.SIGINT, grace), (signal.SIGTERM, term_grace), (signal.SIGKILL, kill_wait)]
    if first_signal != signal.SIGINT or (run.leader is not None and run.leader.poll() is not None):
        steps = steps[1:]  # nobody left to act on SIGINT (the leader relays it to its workers)
    for signum, wait in steps:
        if run.gone():
            return True
        seen = signals_seen()
        run.send(signum, group_only=signum == signal.SIGINT)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and signals_seen() == seen:
            if run.gone():
                return True
            time.sleep(0.05)
    return run.gone()
