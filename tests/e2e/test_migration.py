"""Migration drill: a small school on SQLite moves to the medium tier on PostgreSQL.

`ssas-deploy migrate` applies medium to a bare host, stops the source's app, streams the
data across, verifies every table and the API, and prints the new URL. Then, independently
of the command's own checks: per-table counts and checksums equal on both hosts (SQLite vs
PostgreSQL), sequences past the ids, and the same HTTPS answers for a sample of students.
"""

import json
import time

from ssas_deploy.context.paths import MEDIA_ROOT
from ssas_deploy.migration.remote import file_digests, run_on
from ssas_deploy.profiles.models import Role

from .checks import seed_and_check_service
from .conftest import cli
from .site_client import Site

STUDENTS = 120


def _sample(site: Site, ids: list[int]) -> dict:
    """path -> (status, body) with the site's own address taken out of links."""
    answers = {}
    paths = ["/api/students/?page_size=25&ordering=id"]
    paths += [f"/api/students/{student}/{action}" for student in ids
              for action in ("", "scores/", "prediction/")]
    for path in paths:
        status, body = site.request(path)
        answers[path] = (status, json.loads(json.dumps(body).replace(site.base, "SITE")))
    return answers


def test_small_on_sqlite_moves_to_medium_on_postgresql(make_sandbox, medium_bare):
    profile, inventory = make_sandbox("small", "database: {engine: sqlite}\n")
    cli("apply", "--profile", str(profile), "--inventory", str(inventory), "--force")
    source = Site(profile, inventory)
    seed_and_check_service(source, students=STUDENTS)
    status, page = source.request("/api/students/?page_size=100&ordering=id")
    assert status == 200, page
    ids = [s["id"] for s in page["results"]][::17][:6]
    before = _sample(source, ids)
    assert all(status == 200 for status, _ in before.values()), before
    # A generated report's file stands for the school's media files.
    source_host = source.deployment.topology.first(Role.web)
    run_on(source_host, f"mkdir -p {MEDIA_ROOT}/reports && head -c 300000 /dev/urandom > "
                        f"{MEDIA_ROOT}/reports/r-1.pdf && chown -R --reference={MEDIA_ROOT} "
                        f"{MEDIA_ROOT}/reports")
    media = file_digests(source_host, MEDIA_ROOT)
    assert "./reports/r-1.pdf" in media

    target_profile, target_inventory = medium_bare
    started = time.monotonic()
    moved = cli("migrate", "--from-profile", str(profile), "--from-inventory", str(inventory),
                "--to-profile", str(target_profile), "--inventory", str(target_inventory),
                "--yes", "--force", check=False)
    elapsed = time.monotonic() - started
    steps = "\n".join(line for line in moved.stderr.splitlines()
                      if line.startswith(("[", "      ")))
    print(f"\nmigration small/SQLite -> medium/PostgreSQL ({STUDENTS} students, medium "
          f"applied from a bare host): {elapsed:.0f} s\n{steps}\n{moved.stdout[-6000:]}")
    assert moved.returncode == 0, moved.stdout[-4000:] + moved.stderr[-4000:]
    assert "every count, checksum and sequence equal" in moved.stdout
    assert "API answers for the sampled students: equal" in moved.stdout

    # Independently: the same tables, rows and content on both engines.
    target = Site(target_profile, target_inventory)
    left = json.loads(source.manage(Role.web, "table_checksums", "--json"))
    right = json.loads(target.manage(Role.web, "table_checksums", "--json"))
    assert (left["vendor"], right["vendor"]) == ("sqlite", "postgresql")
    assert [(t["table"], t["rows"], t["checksum"]) for t in left["tables"]] == \
        [(t["table"], t["rows"], t["checksum"]) for t in right["tables"]]
    rows = {t["table"]: t["rows"] for t in right["tables"]}
    assert rows["students_student"] == STUDENTS
    assert all(t["sequence_ok"] for t in right["tables"] if t["auto_pk"]), right
    assert file_digests(target.deployment.topology.first(Role.web), MEDIA_ROOT) == media

    # The same answers over HTTPS through the new load balancer (the API token moved too).
    target.token = source.token
    assert _sample(target, ids) == before
    # And the new site takes writes: a new student gets a fresh id.
    status, created = target.request("/api/students/", "POST", {
        "school": page["results"][0]["school"], "student_id": "MIGRATED-1",
        "first_name": "After", "last_name": "Migration", "grade": 9})
    assert status == 201, created
    assert created["id"] > max(s["id"] for s in page["results"])

