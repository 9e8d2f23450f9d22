"""`ssas-deploy verify` on the small sandbox: the workload through nginx, judged against the
small tier's targets; its school and users are gone afterwards."""

import json
import re

import pytest

from ssas_deploy.profiles.models import Role

from .conftest import cli
from .site_client import Site

ENDPOINTS = {"GET /api/students/", "GET /api/students/{id}/scores/",
             "GET /api/students/{id}/careers/", "GET /api/students/{id}/prediction/",
             "GET /api/students/{id}/peers/"}
LEFTOVERS = ("from django.contrib.auth.models import User; from ssas.students.models import "
             "School; print(School.objects.filter(code__startswith='verify-').count(), "
             "User.objects.filter(username__startswith='verify-').count())")


def _leftovers(site: Site) -> str:
    return site.manage(Role.web, "shell", "-c", LEFTOVERS).strip().splitlines()[-1]


@pytest.fixture(scope="module")
def trained(small):
    """verify needs trained models (it refuses, saying so, without them): a school to learn
    from and a training, whatever ran before on this sandbox."""
    site = Site(*small)
    site.manage(Role.web, "generate_school", "--students", "150", "--seed", "7", "--school",
                "Training Data", "--replace")
    site.manage(Role.web, "train_models")
    return site


def test_verify_judges_every_endpoint_and_the_batch_and_exits_by_the_figures(small, trained):
    profile, inventory = small
    site = trained
    result = cli("verify", "--profile", str(profile), "--inventory", str(inventory),
                 "--duration", "20s", "--users", "20", "--students", "100", "--json",
                 check=False)
    assert result.returncode in (0, 1), result.stderr
    document = json.loads(result.stdout)
    rows = {r["name"]: r for r in document["rows"]}
    assert set(rows) >= ENDPOINTS, rows
    for name in ENDPOINTS:
        r = rows[name]
        assert r["requests"] > 0, r
        limit = 200 if r["kind"] == "ml" else 100  # the small profile's ml_ms and api_ms
        assert r["passed"] == (r["p95_ms"] <= limit and r["failures"] <= 0.01 * r["requests"])
    batch = rows["batch analysis of 100 students"]
    assert batch["failures"] == 0, batch  # done within the run
    pace = float(re.match(r"([\d,]+) students/min", batch["note"])[1].replace(",", ""))
    assert batch["passed"] == (pace >= 100)
    assert result.returncode == (0 if document["passed"] else 1)
    assert document["passed"] == all(r["passed"] for r in document["rows"]
                                     if r["passed"] is not None)
    # The run's users' tokens never reach the output.
    assert not re.search(r"\b[0-9a-f]{40}\b", result.stdout + result.stderr)
    assert _leftovers(site) == "0 0"


def test_verify_prints_the_table_and_exits_by_it(small, trained):
    profile, inventory = small
    result = cli("verify", "--profile", str(profile), "--inventory", str(inventory),
                 "--duration", "10s", "--users", "5", "--students", "50", check=False)
    print(result.stdout)  # the figures, in the CI log
    assert result.returncode in (0, 1), result.stderr
    assert "verify: 5 users for 10 s against" in result.stdout
    assert "GET /api/students/" in result.stdout and "batch analysis of 50 students" in \
        result.stdout
    missed = "FAIL" in result.stdout
    assert result.returncode == (1 if missed else 0), result.stdout
    assert ("some targets missed" if missed else "all targets met") in result.stdout
    assert _leftovers(Site(profile, inventory)) == "0 0"
