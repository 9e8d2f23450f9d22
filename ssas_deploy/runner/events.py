"""Follow the callback plugin's JSON-lines file and fold events into per-host state."""

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class HostProgress:
    task: str = ""
    ok: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0
    unreachable: bool = False
    done: bool = False


@dataclass
class Failure:
    host: str
    task: str
    message: str


@dataclass
class RunState:
    """What the events of one run have told so far.

    `hosts` has every host any event named; `recap` the final stats per host (the `stats`
    events); `ended` is True once the callback's closing `end` event arrived, i.e. ansible-playbook
    finished its run and reported every host's stats.
    """

    play: str = ""
    hosts: dict[str, HostProgress] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    changed_tasks: list[tuple[str, str]] = field(default_factory=list)
    recap: dict[str, dict] = field(default_factory=dict)
    ended: bool = False

    def host(self, name: str) -> HostProgress:
        return self.hosts.setdefault(name, HostProgress())

    def mid_change(self) -> list[tuple[str, str]]:
        """(host, current task) of every host that started a task and has no final stats."""
        return [(name, progress.task) for name, progress in sorted(self.hosts.items())
                if progress.task and not progress.done]

    def apply(self, event: dict) -> None:
        """Fold one event (a dict from the callback plugin) into the state."""
        kind = event.get("event")
        if kind == "end":
            self.ended = True
        elif kind == "play":
            self.play = event.get("name", "")
        elif kind == "start":
            self.host(event["host"]).task = event.get("task", "")
        elif kind == "ok":
            progress = self.host(event["host"])
            progress.ok += 1
            if event.get("changed"):
                progress.changed += 1
                self.changed_tasks.append((event["host"], event.get("task", "")))
        elif kind == "skipped":
            self.host(event["host"]).skipped += 1
        elif kind in ("failed", "unreachable"):
            if kind == "failed" and event.get("ignored"):
                return
            progress = self.host(event["host"])
            progress.failed += 1
            progress.unreachable = kind == "unreachable"
            self.failures.append(Failure(event["host"], event.get("task", ""),
                                         event.get("message", "")))
        elif kind == "stats":
            self.recap[event["host"]] = event
            self.host(event["host"]).done = True


class EventFollower:
    """Reads whatever complete lines the file has gained since the last call.

    A line that is not valid JSON (a writer killed mid-line) is skipped and counted in
    `malformed`; it never stops the follower.
    """

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.partial = ""
        self.malformed = 0

    def read_new(self) -> list[dict]:
        """The events of the lines completed since the last call (none if there is no file)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
            self.offset = handle.tell()
        text = self.partial + chunk
        lines = text.split("\n")
        self.partial = lines.pop()
        events = []
        for line in lines:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                self.malformed += 1
                continue
            if isinstance(event, dict):
                events.append(event)
            else:
                self.malformed += 1
        return events
