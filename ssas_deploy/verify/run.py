"""One verify run: make its school and teachers on the first web host, drive the workload
(locust, headless, in its own process) and one batch analysis through the load balancer,
then remove what it made, whatever happened in between."""

import json
import os
import secrets
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ssas_deploy.context.build import Deployment
from ssas_deploy.migration.remote import manage
from ssas_deploy.profiles.models import Role
from ssas_deploy.verify.report import Row, batch_row, endpoint_rows

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# After the load stops, the batch job gets this long to finish before it counts as failed.
BATCH_GRACE_S = 120
# Users start over the first quarter of the run (at least one a second).
RAMP_SHARE = 0.25
# The site's certificate may be self-signed: requests go only to the inventory's address.
_INSECURE = ssl.create_default_context()
_INSECURE.check_hostname = False
_INSECURE.verify_mode = ssl.CERT_NONE


class VerifyFailed(Exception):
    """The run could not measure (locust or the site failed); the message says where."""


@dataclass
class Batch:
    """The batch analysis measured beside the load: seconds from request to done."""

    students: int
    seconds: float | None = None
    failed: str = ""


def site_address(deployment: Deployment) -> str:
    """https://<the load balancer's address> (the web host's where nginx is colocated);
    an IPv6 address in brackets."""
    topology = deployment.topology
    host = topology.first(Role.load_balancer) or topology.first(Role.web)
    return f"https://[{host.address}]" if ":" in host.address else f"https://{host.address}"


class RemovalFailed(Exception):
    """The run's school and users could not be removed; the message names the command that
    removes them by hand."""


def run_verify(deployment: Deployment, users: int, duration_s: int, students: int,
               tick: Callable[[float], None]) -> list[Row]:
    """The report rows of one run of `users` teachers for `duration_s` seconds and a batch
    analysis of a `students`-student school. `tick(seconds_elapsed)` is called about twice
    a second while the load runs (the progress bar).

    Raises RemoteError (the web host refused or failed: " exited 2:" when the app refused,
    e.g. models not trained), VerifyFailed (the run could not measure) and RemovalFailed.
    The run's school and users are removed on every way out, Ctrl-C included (`remove` is
    safe to repeat, so it runs even when the setup itself failed half way).
    """
    web = deployment.topology.first(Role.web)
    run_id = secrets.token_hex(4)
    try:
        made = _last_json(manage(web, "ssas_verify", "setup", run_id, "--users", str(users),
                                 "--students", str(students), timeout=600))
        base = site_address(deployment)
        batch = Batch(made["students"])
        worker = threading.Thread(target=_run_batch, daemon=True,
                                  args=(base, made, batch, duration_s + BATCH_GRACE_S))
        worker.start()
        stats = _run_locust(base, made, users, duration_s, tick)
        # The batch job is left to finish (or fail) before its school goes.
        worker.join(BATCH_GRACE_S + 30)
        targets = deployment.profile.targets
        rows = [*endpoint_rows(stats, targets),
                batch_row(batch.students, batch.seconds, batch.failed, targets)]
    except (KeyError, ValueError, OSError, subprocess.SubprocessError) as exc:
        raise VerifyFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        _remove(web, run_id)
    return rows


def _remove(web, run_id: str) -> None:
    from ssas_deploy.migration.remote import RemoteError

    try:
        manage(web, "ssas_verify", "remove", run_id, timeout=600)
    except (RemoteError, OSError) as exc:
        raise RemovalFailed(
            f"the verify run's school and users may still be on the site ({exc}); remove them "
            f"with: ssas-manage ssas_verify remove {run_id} (on {web.name})") from exc


def _run_locust(base: str, made: dict, users: int, duration_s: int,
                tick: Callable[[float], None]) -> str:
    """locust headless; the text of its stats CSV. The tokens reach it in its environment
    (never on a command line, which any local user may read)."""
    env = {**os.environ, "SSAS_VERIFY_TOKENS": ",".join(made["tokens"]),
           "SSAS_VERIFY_STUDENTS": ",".join(str(s) for s in made["student_ids"]),
           "SSAS_VERIFY_SCHOOL": made["school"],
           "PYTHONWARNINGS": "ignore"}
    spawn_rate = max(1.0, users / max(1.0, duration_s * RAMP_SHARE))
    with tempfile.TemporaryDirectory(prefix="ssas-verify-") as work:
        prefix = Path(work) / "run"
        command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                   "--users", str(users), "--spawn-rate", f"{spawn_rate:.2f}", "--host", base,
                   "--run-time", f"{duration_s}s", "--csv", str(prefix), "--only-summary",
                   "--stop-timeout", "10", "--loglevel", "ERROR"]
        log = Path(work) / "locust.log"
        with log.open("wb") as output:
            process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
            start = time.monotonic()
            try:
                while process.poll() is None:
                    tick(time.monotonic() - start)
                    if time.monotonic() - start > duration_s + 60:
                        process.kill()
                        raise VerifyFailed(f"locust did not stop {duration_s + 60} s after "
                                           "it started")
                    time.sleep(0.5)
            finally:
                if process.poll() is None:
                    process.terminate()
                    process.wait(30)
        stats = Path(f"{prefix}_stats.csv")
        # locust exits 1 when a request failed: the report judges that, per endpoint.
        if process.returncode not in (0, 1) or not stats.exists():
            tail = log.read_text(errors="replace")[-1500:]
            raise VerifyFailed(f"locust exited {process.returncode}: {tail}")
        return stats.read_text(encoding="utf-8")


def _run_batch(base: str, made: dict, batch: Batch, deadline_s: float) -> None:
    """POST one batch analysis of the verify school, then poll it until it is done, failed
    or `deadline_s` has passed; the outcome goes into `batch`."""
    start = time.monotonic()
    headers = {"Authorization": f"Token {made['batch_token']}",
               "Content-Type": "application/json"}
    try:
        # ?school= routes the request to the school's shard (sharded deployments).
        accepted = _request(f"{base}/api/analysis/batch/?school={made['school']}", headers,
                            json.dumps({"school": made["school_id"]}).encode())
        status_url = urllib.parse.urlsplit(accepted["status_url"])
        poll = base + status_url.path + (f"?{status_url.query}" if status_url.query else "")
        while time.monotonic() - start < deadline_s:
            job = _request(poll, headers)
            if job["status"] == "done":
                batch.seconds = time.monotonic() - start
                return
            if job["status"] == "failed":
                batch.failed = f"the batch job failed: {job.get('error') or 'no reason given'}"
                return
            time.sleep(1)
        batch.failed = f"not done {deadline_s:.0f} s after it was requested"
    except (OSError, KeyError, ValueError) as exc:
        batch.failed = f"the batch request failed: {exc}"


def _request(url: str, headers: dict, body: bytes | None = None) -> dict:
    request = urllib.request.Request(url, data=body, headers=headers,
                                     method="POST" if body is not None else "GET")
    with urllib.request.urlopen(request, context=_INSECURE, timeout=30) as response:
        return json.loads(response.read())


def _last_json(output: str) -> dict:
    """The JSON line a management command printed last (the app may log before it).
    Raises ValueError when there is none."""
    for line in reversed(output.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("ssas_verify printed no result")
