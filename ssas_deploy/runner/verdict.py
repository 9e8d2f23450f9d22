"""Did a run succeed? Only when ansible-playbook itself says so, completely."""

import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ssas_deploy.runner.events import RunState


@dataclass(frozen=True)
class Verdict:
    """`ok` is True only when `problems` is empty; each problem is one sentence for the user."""

    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def judge_run(returncode: int | None, state: RunState, expected_hosts: Iterable[str],
              log: Path | None = None) -> Verdict:
    """The verdict on a finished (not interrupted) ansible-playbook run.

    A run succeeded only when all of these hold:
    - ansible-playbook exited 0 (`returncode` as from `Popen.returncode`: negative when it was
      killed by a signal, None when it never ran);
    - the events callback's final `end` event arrived (`state.ended`), so every host's final
      stats were written;
    - every host that took part (named by any event) and every host of `expected_hosts` (the
      inventory's hosts when no --limit was given, else nothing) has final stats;
    - no host failed (a failed task not ignored nor rescued) or was unreachable, by its stats.

    Returns a Verdict listing every condition that does not hold, each saying what is missing;
    `log` (ansible-playbook's output) is named where the user has to look for the reason.
    Never raises.
    """
    problems: list[str] = []
    see_log = f"; log: {log}" if log else ""
    if not state.ended:
        problems.append(f"ansible-playbook {_how_it_ended(returncode)} without its final stats: "
                        f"the run cannot be proven to have succeeded{see_log}")
    for failure in state.failures:
        if _failed_for_good(state, failure.host):
            what = "unreachable" if state.host(failure.host).unreachable else "failed"
            detail = f": {failure.message}" if failure.message else ""
            problems.append(f"{failure.host}: task '{failure.task}' {what}{detail}")
    reported = {f.host for f in state.failures if _failed_for_good(state, f.host)}
    for host, stats in sorted(state.recap.items()):
        if host in reported:
            continue
        if stats.get("unreachable"):
            problems.append(f"{host}: unreachable ({stats['unreachable']} time(s)), see the recap")
        elif stats.get("failures"):
            problems.append(f"{host}: {stats['failures']} task(s) failed, see the recap")
    if state.ended:
        took_part = set(state.hosts)
        missing = sorted((took_part | set(expected_hosts)) - set(state.recap))
        for host in missing:
            why = "it took part in the run" if host in took_part else "it never ran"
            problems.append(f"{host}: no final stats ({why}): this host cannot be proven to "
                            "be deployed")
    if returncode != 0 and state.ended and not problems:
        problems.append(f"ansible-playbook {_how_it_ended(returncode)} although every host "
                        f"reported success{see_log}")
    return Verdict(tuple(problems))


def _failed_for_good(state: RunState, host: str) -> bool:
    """A failure event counts unless the final stats show it was rescued (no failures left)."""
    stats = state.recap.get(host)
    if stats is None:
        return True
    return bool(stats.get("failures") or stats.get("unreachable"))


def _how_it_ended(returncode: int | None) -> str:
    if returncode is None:
        return "never ran"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "an unknown signal"
        return f"ended (killed by signal {-returncode}, {name})"
    return f"ended (exit code {returncode})"
