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
    play: str = ""
    hosts: dict[str, HostProgress] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    changed_tasks: list[tuple[str, str]] = field(default_factory=list)
    recap: dict[str, dict] = field(default_factory=dict)

    def host(self, name: str) -> HostProgress:
        return self.hosts.setdefault(name, HostProgress())

    def apply(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "play":
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
    """Reads whatever complete lines the file has gained since the last call."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.partial = ""

    def read_new(self) -> list[dict]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
            self.offset = handle.tell()
        text = self.partial + chunk
        lines = text.split("\n")
        self.partial = lines.pop()
        return [json.loads(line) for line in lines if line.strip()]
