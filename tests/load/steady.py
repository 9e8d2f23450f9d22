"""Run locust headless in the background for as long as a block of work takes.

    with steady_load("https://10.88.0.5", tokens, before_s=30, after_s=30) as load:
        do_the_rollout()
    print(load.result.summary())

The load starts `before_s` seconds before the block, goes on during it and for `after_s`
seconds after it, then stops (SIGINT: locust writes its statistics and exits). Bounded: the
run is capped at `limit_s` by locust's own --run-time as well. Traffic goes only to the
given address (the project's own sandbox hosts).
"""

import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass
class LoadResult:
    """Totals per request name from locust's stats CSV: {name: (requests, failures)}."""

    per_name: dict[str, tuple[int, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(r for r, _ in self.per_name.values())

    @property
    def failed(self) -> int:
        return sum(f for _, f in self.per_name.values())

    def summary(self) -> str:
        parts = ", ".join(f"{name} {r} ({f} failed)" for name, (r, f) in
                          sorted(self.per_name.items()))
        return (f"{self.requests} requests in {self.seconds:.0f} s, {self.failed} failed: "
                f"{parts}" + (f"; failures: {'; '.join(self.failures[:5])}"
                              if self.failures else ""))


def _read(prefix: Path, seconds: float) -> LoadResult:
    result = LoadResult(seconds=seconds)
    stats = Path(f"{prefix}_stats.csv")
    if stats.exists():
        with stats.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["Name"] != "Aggregated":
                    result.per_name[row["Name"]] = (int(row["Request Count"]),
                                                    int(row["Failure Count"]))
    errors = Path(f"{prefix}_failures.csv")
    if errors.exists():
        with errors.open(encoding="utf-8") as handle:
            result.failures = [f"{r['Name']}: {r['Error']} x{r['Occurrences']}"
                               for r in csv.DictReader(handle)]
    return result


@contextmanager
def steady_load(base_url: str, tokens: list[str], users: int = 4, rate_per_user: float = 8.0,
                before_s: float = 30.0, after_s: float = 30.0, limit_s: int = 1800):
    """Yield a holder whose `.result` (LoadResult) is filled when the block has ended.

    `tokens`: API tokens of distinct users, handed to the locust users in turn (at least one
    per locust user keeps each under the app's per-user throttle)."""
    work = Path(tempfile.mkdtemp(prefix="ssas-load-"))
    prefix = work / "run"
    env = {**os.environ, "SSAS_LOAD_TOKENS": ",".join(tokens),
           "SSAS_LOAD_RATE": str(rate_per_user),
           "PYTHONWARNINGS": "ignore"}
    command = [str(Path(sys.executable).with_name("locust")), "-f", str(LOCUSTFILE),
               "--headless", "--users", str(users), "--spawn-rate", str(users),
               "--host", base_url, "--run-time", f"{limit_s}s", "--csv", str(prefix),
               "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"]
    holder = type("Load", (), {"result": None})()
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=(work / "out.log").open("w"),
                               stderr=subprocess.STDOUT)
    try:
        time.sleep(before_s)
        if process.poll() is not None:
            raise RuntimeError(f"locust exited early: {(work / 'out.log').read_text()[-2000:]}")
        yield holder
        time.sleep(after_s)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        holder.result = _read(prefix, time.monotonic() - started)
