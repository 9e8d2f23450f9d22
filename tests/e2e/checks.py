"""The checks every end-to-end tier runs after its first apply."""

import json
import re
import secrets
import time

from ssas_deploy.migration.remote import manage, run_on
from ssas_deploy.profiles.models import Role

from .conftest import cli
from .site_client import Site


def seed_and_check_service(site: Site, students: int) -> None:
    """Health, data through the API, an ML answer and a batch Celery job, all via nginx."""
    status, health = site.request("/health/", auth=False)
    assert status == 200, health
    assert health["checks"]["database"] and health["status"] in ("healthy", "degraded")

    site.manage(Role.web, "generate_school", "--students", str(students), "--seed", "11")
    site.manage(Role.web, "train_models")
    password = secrets.token_urlsafe(16)
    site.manage(Role.web, "createsuperuser", "--noinput", "--username", "e2e-admin",
                "--email", "e2e-admin@school.example",
                env={"DJANGO_SUPERUSER_PASSWORD": password})
    site.log_in("e2e-admin", password)

    status, page = site.request("/api/students/?page_size=5")
    assert status == 200 and page["count"] == students, page
    student = page["results"][0]["id"]
    status, prediction = site.request(f"/api/students/{student}/prediction/")
    assert status == 200, prediction
    assert 0 <= prediction["predicted_average"] <= 100

    status, job = site.request("/api/analysis/batch/", "POST", {})
    assert status == 202, job
    finished = site.wait_for(f"/api/analysis/batch/{job['job_id']}/",
                             lambda body: body["status"] in ("done", "failed"))
    assert finished["status"] == "done", finished
    assert finished["processed_students"] == students

    status, health = site.request("/health/", auth=False)
    assert status == 200 and health["status"] == "healthy", health


def changed_tasks(stdout: str) -> int:
    """The N of apply's closing "N task(s) changed." line (AssertionError when it is missing)."""
    found = re.findall(r"(?m)^(\d+) task\(s\) changed\.$", stdout)
    assert found, f"no 'task(s) changed' line:\n{stdout[-3000:]}"
    return int(found[-1])


def assert_second_apply_changes_nothing(profile, inventory) -> None:
    result = cli("apply", "--profile", str(profile), "--inventory", str(inventory), "--force")
    assert changed_tasks(result.stdout) == 0, result.stdout[-3000:]


def assert_live_hosts_match_render(profile, inventory) -> None:
    """plan against the live hosts: every file (secrets included) equals render's bytes."""
    result = cli("plan", "--profile", str(profile), "--inventory", str(inventory), "--json")
    live = json.loads(result.stdout)["live"]
    for host in live:
        assert host["error"] is None, host
        assert host["changes"] == [], host


PSQL = "runuser -u postgres -- psql -XAtq -d postgres -c"


def table_checksums(site: Site) -> list[tuple]:
    """(table, rows, checksum) of every app table, from `table_checksums` on the first web
    server."""
    web = site.deployment.topology.first(Role.web)
    document = json.loads(manage(web, "table_checksums", "--json"))
    return [(t["table"], t["rows"], t["checksum"]) for t in document["tables"]]


def switch_and_archive_wal(db) -> None:
    """pg_switch_wal() on `db`, then wait until that segment is in the repository."""
    segment = run_on(db, f"{PSQL} 'select pg_walfile_name(pg_switch_wal())'").strip()
    deadline = time.monotonic() + 120
    while run_on(db, f"{PSQL} 'select last_archived_wal from pg_stat_archiver'").strip() \
            < segment:
        assert time.monotonic() < deadline, f"WAL segment {segment} not archived in 120 s"
        time.sleep(1)
