"""Run a playbook with ansible-playbook, showing live per-host progress from its events."""

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live

from ssas_deploy.errors import OperationFailedError
from ssas_deploy.resources import data_dir
from ssas_deploy.runner.events import EventFollower, RunState
from ssas_deploy.runner.progress import progress_table
from ssas_deploy.runner.workspace import Workspace, ansible_environment


@dataclass(frozen=True)
class RunOptions:
    playbook: str = "site.yml"
    limit: str | None = None
    tags: str | None = None
    check: bool = False
    diff: bool = False
    extra_vars_files: tuple[Path, ...] = ()


@dataclass
class RunResult:
    returncode: int
    state: RunState
    log: Path

    @property
    def changed(self) -> int:
        return sum(r.get("changed", 0) for r in self.state.recap.values())


def ansible_playbook_command(workspace: Workspace, options: RunOptions) -> list[str]:
    playbook = data_dir("playbooks") / options.playbook
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i",
               str(workspace.inventory), "-e", f"@{workspace.secrets_vars}", str(playbook)]
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
                 known_hosts: Path) -> RunResult:
    command = ansible_playbook_command(workspace, options)
    if not Path(command[0]).exists():
        raise OperationFailedError(f"ansible-playbook not found at {command[0]}: install "
                                   "ssas-deploy with its Ansible requirements")
    state = RunState()
    follower = EventFollower(workspace.events)
    with workspace.log.with_suffix(".out").open("w", encoding="utf-8") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL,
                                   env=ansible_environment(workspace, known_hosts))
        if console.is_terminal:
            with Live(progress_table(state), console=console, refresh_per_second=4) as live:
                while process.poll() is None:
                    _fold(state, follower, None)
                    live.update(progress_table(state))
                    time.sleep(0.25)
                _fold(state, follower, None)
                live.update(progress_table(state))
        else:
            # Logs and CI: one line per play, task and change instead of a redrawn table.
            while process.poll() is None:
                _fold(state, follower, console)
                time.sleep(0.25)
            _fold(state, follower, console)
    return RunResult(process.returncode, state, workspace.log.with_suffix(".out"))


def _fold(state: RunState, follower: EventFollower, log: Console | None) -> None:
    for event in follower.read_new():
        state.apply(event)
        if log is not None:
            line = event_line(event)
            if line:
                log.print(line, markup=False, highlight=False)


def event_line(event: dict) -> str | None:
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
