"""Run a playbook with ansible-playbook, showing live per-host progress from its events.

ansible-playbook runs in its own session and process group, so a terminal's Ctrl-C reaches only
ssas-deploy, which then stops every process of the run in order (`runner.interrupts` records
the signal, `runner.processes` finds and stops the processes): Ansible never goes on changing
hosts on its own after `apply` has returned.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live

from ssas_deploy.errors import OperationFailedError
from ssas_deploy.resources import data_dir
from ssas_deploy.runner.events import EventFollower, RunState
from ssas_deploy.runner.interrupts import InterruptGuard, guarded, signal_name
from ssas_deploy.runner.processes import INTERRUPT_GRACE_S, RunProcesses, stop_run
from ssas_deploy.runner.progress import progress_table
from ssas_deploy.runner.verdict import Verdict, judge_run
from ssas_deploy.runner.workspace import (
    RUN_VAULT_ID,
    VAULT_PASSWORD_SCRIPT,
    Workspace,
    ansible_environment,
)


@dataclass(frozen=True)
class RunOptions:
    """What to run and how.

    `playbook` is a file name in the package's playbooks directory (`site.yml`) or an absolute
    path to any playbook; the rest pass through to ansible-playbook.
    """

    playbook: str | Path = "site.yml"
    limit: str | None = None
    tags: str | None = None
    check: bool = False
    diff: bool = False
    extra_vars_files: tuple[Path, ...] = ()


@dataclass
class RunResult:
    """One ansible-playbook run as ssas-deploy saw it.

    `returncode` is ansible-playbook's exit status (negative: killed by that signal; None: it
    was never started). `interrupted` is the signal (SIGINT or SIGTERM) that made ssas-deploy
    stop the run, else None. `expected_hosts` must all report final stats for the run to count
    (the inventory's hosts; none when --limit chose a subset). `log` is ansible-playbook's
    output. `stopped_cleanly` is False only if a process of the run survived SIGKILL.
    """

    returncode: int | None
    state: RunState
    log: Path
    interrupted: int | None = None
    expected_hosts: tuple[str, ...] = ()
    stopped_cleanly: bool = True

    @property
    def changed(self) -> int:
        """Tasks that changed something, summed over the final stats of every host."""
        return sum(r.get("changed", 0) for r in self.state.recap.values())

    def verdict(self) -> Verdict:
        """Whether the run provably succeeded; see `runner.verdict.judge_run`."""
        return judge_run(self.returncode, self.state, self.expected_hosts, self.log)

    @property
    def succeeded(self) -> bool:
        """Not interrupted, nothing left running, and `verdict()` is ok."""
        return self.interrupted is None and self.stopped_cleanly and self.verdict().ok

    @property
    def problems(self) -> tuple[str, ...]:
        """Why the run does not count as a success (empty when it does)."""
        if self.interrupted is not None:
            return (f"interrupted by {signal_name(self.interrupted)}",)
        survivors = () if self.stopped_cleanly else ("some of Ansible's processes survived "
                                                     "SIGKILL",)
        return survivors + self.verdict().problems


def playbook_path(playbook: str | Path) -> Path:
    """An absolute path as is; a bare name from the package's playbooks directory."""
    path = Path(playbook)
    return path if path.is_absolute() else data_dir("playbooks") / path


def ansible_playbook_command(workspace: Workspace, options: RunOptions) -> list[str]:
    """The ansible-playbook argv for `options` on `workspace` (the venv's ansible-playbook)."""
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i",
               str(workspace.inventory),
               "--vault-id", f"{RUN_VAULT_ID}@{VAULT_PASSWORD_SCRIPT}",
               "-e", f"@{workspace.secrets_vars}", str(playbook_path(options.playbook))]
    for extra in options.extra_vars_files:
        command += ["-e", f"@{extra}"]
    if options.limit:
        command += ["--limit", options.limit]
    if options.tags:
        command += ["--tags", options.tags]
    if options.check:
        command.append("--check")
    if options.diff:
        command.append("--diff")
    return command


def run_playbook(workspace: Workspace, options: RunOptions, console: Console,
                 known_hosts: Path, guard: InterruptGuard | None = None) -> RunResult:
    """Run ansible-playbook on `workspace`, following its events live on `console`.

    A live table when `console` is a terminal, else one line per play, task and change. When
    `guard` records SIGINT or SIGTERM (a guard is installed for this call when None is given),
    the run is stopped with `runner.processes.stop_run` (SIGINT to Ansible's group, then SIGTERM,
    then SIGKILL to every process of the run) and the result says which signal interrupted it; a
    signal recorded before the start means ansible-playbook is not started at all. Whatever
    happens, no process of the run (also none a killed ansible-playbook orphaned) is left
    running when this returns or raises. Does not judge the run: see
    `RunResult.verdict()`.

    Raises OperationFailedError when ansible-playbook or the vault password script is missing.
    """
    command = ansible_playbook_command(workspace, options)
    if not Path(command[0]).exists():
        raise OperationFailedError(f"ansible-playbook not found at {command[0]}: install "
                                   "ssas-deploy with its Ansible requirements")
    if not os.access(VAULT_PASSWORD_SCRIPT, os.X_OK):
        raise OperationFailedError(f"{VAULT_PASSWORD_SCRIPT} is missing or not executable: "
                                   "reinstall ssas-deploy")
    expected = () if options.limit else workspace.hosts
    state = RunState()
    follower = EventFollower(workspace.events)
    with guarded(guard) as guard:
        if guard.signum is not None:
            return RunResult(None, state, workspace.output, guard.signum, expected)
        with workspace.output.open("w", encoding="utf-8") as output, RunProcesses() as run:
            process = run.leader = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env=ansible_environment(workspace, known_hosts))
            clean = True
            try:
                clean = _follow(run, state, follower, console, guard)
            finally:
                # After an exception while following, or when the leader left processes behind
                # (workers of a killed ansible-playbook): none of them may outlive the run.
                if not run.gone():
                    first = signal.SIGINT if process.poll() is None else signal.SIGTERM
                    clean = stop_run(run, first_signal=first, term_grace=2.0,
                                     signals_seen=lambda: guard.count) and clean
    return RunResult(process.returncode, state, workspace.output, guard.signum, expected, clean)


def _follow(run: RunProcesses, state: RunState, follower: EventFollower, console: Console,
            guard: InterruptGuard) -> bool:
    """Show events until ansible-playbook exits or a signal stops the run; False if a process
    of the run survived."""
    stopped = True
    with _view(state, console) as show:
        while run.leader.poll() is None:
            if guard.signum is not None:
                show(follower.read_new())
                console.print(f"Stopping Ansible ({signal_name(guard.signum)}): it gets up to "
                              f"{INTERRUPT_GRACE_S:.0f} s to end its current step; press Ctrl-C "
                              "again to stop it at once.", markup=False, highlight=False)
                stopped = stop_run(run, signals_seen=lambda: guard.count)
                break
            show(follower.read_new())
            time.sleep(0.25)
        show(follower.read_new())
    return stopped


@contextmanager
def _view(state: RunState, console: Console) -> Iterator[Callable[[list[dict]], None]]:
    """A function folding new events into `state` and showing them on `console`."""
    if console.is_terminal:
        with Live(progress_table(state), console=console, refresh_per_second=4) as live:
            def show_table(events: list[dict]) -> None:
                for event in events:
                    state.apply(event)
                live.update(progress_table(state))

            yield show_table
        return

    # Logs and CI: one line per play, task and change instead of a redrawn table.
    def show_lines(events: list[dict]) -> None:
        for event in events:
            state.apply(event)
            line = event_line(event)
            if line:
                console.print(line, markup=False, highlight=False)

    yield show_lines


def event_line(event: dict) -> str | None:
    """The one-line rendering of an event in line mode, or None for events not shown."""
    kind = event.get("event")
    if kind == "play":
        return f"PLAY  {event.get('name', '')}"
    if kind == "task":
        return f"  TASK  {event.get('name', '')}"
    if kind == "ok" and event.get("changed"):
        return f"    changed  {event['host']}"
    if kind in ("failed", "unreachable") and not event.get("ignored"):
        return f"    {kind.upper()}  {event['host']}: {event.get('message', '')}"
    return None
