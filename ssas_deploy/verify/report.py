"""The verify report: locust's per-endpoint figures and the batch job's pace, each judged
against the profile's targets (the guide's per-tier performance targets)."""

import csv
import io
from dataclasses import asdict, dataclass

from ssas_deploy.profiles.models import Targets

# ML routes: the students' career, prediction and peer analyses (the guide's "ML analysis
# response time"); every other route is judged against the API target.
ML_ROUTES = ("/careers/", "/prediction/", "/peers/")
# A route passes when its p95 meets the target and at most this share of its requests
# failed (the guide alerts at 2 % errors; a verify run of a healthy site has none).
MAX_ERROR_RATE = 0.01
# The routes the workload (locustfile.py) requests, as locust names them: one missing from
# its figures was never answered and fails.
ENDPOINTS = ("GET /api/students/", "GET /api/students/{id}/scores/",
             "GET /api/students/{id}/careers/", "GET /api/students/{id}/prediction/",
             "GET /api/students/{id}/peers/")


@dataclass(frozen=True)
class Row:
    """One line of the report. Times in ms, throughput in requests/s; `target` is the text
    judged against ("p95 <= 100 ms"), `passed` None where nothing is judged."""

    name: str
    kind: str  # api | ml | batch | total
    requests: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    throughput: float | None
    target: str
    passed: bool | None
    note: str = ""


def endpoint_rows(stats_csv: str, targets: Targets) -> list[Row]:
    """Rows of locust's `<prefix>_stats.csv` text: one per endpoint, then the total.

    Raises ValueError when the text has no Aggregated row (locust did not finish)."""
    rows, total = [], None
    for record in csv.DictReader(io.StringIO(stats_csv)):
        requests, failures = int(record["Request Count"]), int(record["Failure Count"])
        figures = dict(requests=requests, failures=failures,
                       p50_ms=_ms(record["50%"]), p95_ms=_ms(record["95%"]),
                       p99_ms=_ms(record["99%"]), throughput=float(record["Requests/s"]))
        if record["Name"] == "Aggregated":
            total = Row("all requests", "total", **figures, target="", passed=None)
            continue
        kind = "ml" if any(route in record["Name"] for route in ML_ROUTES) else "api"
        limit = targets.ml_ms if kind == "ml" else targets.api_ms
        slow = figures["p95_ms"] is None or figures["p95_ms"] > limit
        failing = requests == 0 or failures > MAX_ERROR_RATE * requests
        note = "no request answered" if requests == 0 else (
            f"{failures / requests:.1%} failed" if failing else "")
        rows.append(Row(f"{record['Type']} {record['Name']}", kind, **figures,
                        target=f"p95 <= {limit} ms", passed=not (slow or failing), note=note))
    if total is None:
        raise ValueError("locust's statistics have no Aggregated row")
    seen = {r.name for r in rows}
    for name in ENDPOINTS:
        if name not in seen:
            kind = "ml" if any(route in name for route in ML_ROUTES) else "api"
            limit = targets.ml_ms if kind == "ml" else targets.api_ms
            rows.append(Row(name, kind, 0, 0, None, None, None, None, f"p95 <= {limit} ms",
                            False, "not requested in the run (a longer run or more users)"))
    return [*sorted(rows, key=lambda r: (r.kind, r.name)), total]


def batch_row(students: int, seconds: float | None, failed: str, targets: Targets) -> Row:
    """The batch analysis of `students` students that took `seconds` from request to done
    (None: not done in time; `failed`: the job's error). Pace in students/min."""
    goal = f">= {targets.batch_students_per_min} students/min"
    if failed or seconds is None:
        return Row(f"batch analysis of {students} students", "batch", 1, 1, None, None, None,
                   None, goal, False, failed or "not finished in time")
    pace = students / seconds * 60
    return Row(f"batch analysis of {students} students", "batch", 1, 0, None, None, None,
               None, goal, pace >= targets.batch_students_per_min,
               f"{pace:,.0f} students/min ({seconds:.1f} s)")


def passed(rows: list[Row]) -> bool:
    """True when every judged row passed."""
    return all(r.passed for r in rows if r.passed is not None)


def as_json(rows: list[Row], users: int, duration_s: int) -> dict:
    """The report as `verify --json` prints it."""
    return {"users": users, "duration_s": duration_s, "passed": passed(rows),
            "rows": [asdict(r) for r in rows]}


def _ms(text: str) -> float | None:
    return None if text in ("", "N/A") else float(text)
