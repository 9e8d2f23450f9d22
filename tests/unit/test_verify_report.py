"""verify's judgement: locust's per-endpoint figures and the batch pace against the targets."""

import re
from pathlib import Path

import pytest

from ssas_deploy.cli.verify_cmd import parse_duration
from ssas_deploy.errors import InvalidInputError
from ssas_deploy.profiles.models import Targets
from ssas_deploy.verify import run as verify_run
from ssas_deploy.verify.report import ENDPOINTS, as_json, batch_row, endpoint_rows, passed

TARGETS = Targets(api_ms=100, ml_ms=200, batch_students_per_min=100, concurrent_users=80)
HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
          "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
          "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n")


def stats(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


def row(method, name, requests, failures, p50, p95, p99, rps=4.0) -> str:
    return (f"{method},{name},{requests},{failures},{p50},{p50},1,{p99},900,{rps},0,"
            f"{p50},{p50},{p50},{p95},{p95},{p95},{p99},{p99},{p99},{p99},{p99}")


AGGREGATED = row("", "Aggregated", 400, 0, 30, 150, 300, rps=12.5)


def test_api_routes_meet_the_api_target_and_ml_routes_the_ml_target():
    rows = endpoint_rows(stats(
        row("GET", "/api/students/", 200, 0, 20, 90, 120),
        row("GET", "/api/students/{id}/careers/", 100, 0, 80, 150, 400),
        row("GET", "/api/students/{id}/scores/", 100, 0, 30, 110, 130),
        AGGREGATED), TARGETS)
    by_name = {r.name: r for r in rows}
    assert by_name["GET /api/students/"].passed is True
    assert by_name["GET /api/students/"].target == "p95 <= 100 ms"
    careers = by_name["GET /api/students/{id}/careers/"]
    assert careers.kind == "ml" and careers.target == "p95 <= 200 ms" and careers.passed
    assert by_name["GET /api/students/{id}/scores/"].passed is False  # 110 > 100
    total = rows[-1]
    assert total.kind == "total" and total.requests == 400 and total.throughput == 12.5
    assert total.passed is None
    assert not passed(rows)


def test_failed_requests_over_one_percent_fail_a_fast_route():
    rows = endpoint_rows(stats(row("GET", "/api/students/", 100, 2, 10, 20, 30),
                               row("GET", "/api/students/{id}/peers/", 100, 1, 10, 20, 30),
                               AGGREGATED), TARGETS)
    by_name = {r.name: r for r in rows}
    students, peers = by_name["GET /api/students/"], by_name["GET /api/students/{id}/peers/"]
    assert students.passed is False and students.note == "2.0% failed"
    assert peers.passed is True  # 1 % is the limit


def test_a_route_of_the_workload_missing_from_the_figures_fails_and_no_total_is_an_error():
    rows = endpoint_rows(stats(row("GET", "/api/students/", 50, 0, 10, 20, 30), AGGREGATED),
                         TARGETS)
    by_name = {r.name: r for r in rows}
    assert set(by_name) == {*ENDPOINTS, "all requests"}
    careers = by_name["GET /api/students/{id}/careers/"]
    assert careers.passed is False and careers.requests == 0 and "not requested" in careers.note
    assert careers.target == "p95 <= 200 ms"
    assert not passed(rows)
    with pytest.raises(ValueError, match="Aggregated"):
        endpoint_rows(stats(row("GET", "/api/students/", 1, 0, 1, 1, 1)), TARGETS)


def test_the_workload_requests_exactly_the_judged_endpoints():
    source = (Path(verify_run.__file__).with_name("locustfile.py")).read_text()
    names = set(re.findall(r'name="([^"]+)"', source))
    assert {f"GET {n}" for n in names} == set(ENDPOINTS)


def test_the_batch_pace_is_students_per_minute_against_the_target():
    fast = batch_row(200, 60.0, "", TARGETS)
    assert fast.passed and fast.note == "200 students/min (60.0 s)"
    slow = batch_row(200, 150.0, "", TARGETS)
    assert slow.passed is False and slow.note == "80 students/min (150.0 s)"
    late = batch_row(200, None, "", TARGETS)
    assert late.passed is False and late.note == "not finished in time"
    failed = batch_row(200, None, "the batch job failed: boom", TARGETS)
    assert failed.note == "the batch job failed: boom"
    document = as_json([fast, late], users=10, duration_s=20)
    assert document["passed"] is False and len(document["rows"]) == 2


@pytest.mark.parametrize("text, seconds", [("60s", 60), ("2m", 120), ("90", 90), (" 5s ", 5)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["4s", "61m", "1h", "fast", ""])
def test_bad_durations_are_refused_naming_the_option(text):
    with pytest.raises(InvalidInputError) as caught:
        parse_duration(text)
    assert caught.value.problems[0].field == "--duration"
