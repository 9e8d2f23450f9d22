"""Staff accounts on the deployed small site, through nginx over HTTPS, as a browser does it.

`ssas-deploy users create` makes a teacher (the password only in a 0600 file); the teacher
signs in at /accounts/login/ with the CSRF cookie and token, sees the dashboard, signs out
with a POST; a password reset writes its one mail into the data directory's mail folder on
the web host (no SMTP relay in the sandbox); `users list` shows the account and, once
`users disable` ran, the same password no longer signs in.
"""

import http.cookiejar
import json
import re
import secrets
import urllib.parse
import urllib.request
from pathlib import Path

from ssas_deploy.context.paths import DATA_DIR
from ssas_deploy.migration.remote import run_on
from ssas_deploy.profiles.models import Role

from .conftest import cli
from .site_client import INSECURE, Site


class Browser:
    """Cookies kept, redirects followed, Referer set like a browser's same-site form post."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            urllib.request.HTTPSHandler(context=INSECURE))

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.geturl(), response.read().decode()

    def post(self, path: str, fields: dict, page: str) -> tuple[str, str]:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST",
                                         headers={"Referer": self.base + path,
                                                  "Origin": self.base})
        with self.opener.open(request, timeout=60) as response:
            return response.geturl(), response.read().decode()


def test_a_teacher_signs_in_and_out_and_can_reset_the_password(small, tmp_path):
    profile, inventory = small
    site = Site(profile, inventory)
    name = f"teacher-{secrets.token_hex(3)}"
    secret = tmp_path / f"{name}.password"
    args = ["--profile", str(profile), "--inventory", str(inventory)]
    created = cli("users", "create", name, "--role", "teacher", "--email",
                  f"{name}@school.example", "--password-file", str(secret), *args)
    password = secret.read_text(encoding="utf-8").strip()
    assert secret.stat().st_mode & 0o777 == 0o600
    assert password not in created.stdout + created.stderr

    browser = Browser(site.base)
    url, page = browser.get("/")
    assert url.endswith("/accounts/login/?next=/"), url
    url, page = browser.post("/accounts/login/", {"username": name, "password": password,
                                                  "next": "/"}, page)
    assert url == site.base + "/" and f"Signed in as {name}" in page, page[-600:]
    url, page = browser.post("/accounts/logout/", {}, page)
    assert url.endswith("/accounts/login/"), url
    url, _ = browser.get("/")
    assert "/accounts/login/" in url

    url, page = browser.get("/accounts/password_reset/")
    url, page = browser.post("/accounts/password_reset/",
                             {"email": f"{name}@school.example"}, page)
    assert url.endswith("/accounts/password_reset/done/"), url
    web = site.deployment.topology.first(Role.web)
    mails = run_on(web, f"grep -l {name} {DATA_DIR}/mail/* && "
                        f"stat -c '%U %a' {DATA_DIR}/mail").split()
    assert len(mails) == 3 and mails[1] == "ssas", mails
    assert "/accounts/reset/" in run_on(web, f"cat {mails[0]}")

    listed = json.loads(cli("users", "list", "--json", *args).stdout)
    assert {"username": name, "role": "teacher", "active": True} == {
        k: v for k, v in next(u for u in listed if u["username"] == name).items()
        if k in ("username", "role", "active")}
    cli("users", "disable", name, *args)
    browser = Browser(site.base)
    _, page = browser.get("/accounts/login/")
    _, page = browser.post("/accounts/login/", {"username": name, "password": password}, page)
    assert "did not match" in page


TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "docs" / "import-templates"


def test_data_import_of_the_template_files_then_the_api_lists_the_students(small, tmp_path):
    profile, inventory = small
    args = ["--profile", str(profile), "--inventory", str(inventory)]
    files = [str(path) for path in sorted(TEMPLATES.glob("*.csv"))]
    bad = tmp_path / "scores.csv"
    bad.write_text("student_id,subject,academic_year,term,total_score\n"
                   "HS-0001,MATH,2025/2026,1,70\nHS-0002,MATH,2025/2026,9,70\n")

    # Other tests on this shared site may have made subjects with the same codes (`math`):
    # those rows update; every row is good either way.
    dry = json.loads(cli("data", "import", *files, "--dry-run", "--json", *args).stdout)
    assert dry["error_count"] == 0 and not dry["committed"]
    assert sum(f["created"] + f["updated"] + f["unchanged"] for f in dry["files"]) == 132
    refused = cli("data", "import", *files, str(bad), *args, check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"{bad}:3: term: '9': expected a whole number from 1 to 3" in (
        refused.stdout + refused.stderr)

    first = json.loads(cli("data", "import", *files, "--json", *args).stdout)
    created = {f["kind"]: f["created"] for f in first["files"]}
    assert first["committed"] and (created["students"], created["scores"]) == (4, 120)
    again = json.loads(cli("data", "import", *files, "--json", *args).stdout)
    assert [(f["created"], f["updated"]) for f in again["files"]] == [(0, 0)] * 5
    assert sum(f["unchanged"] for f in again["files"]) == 132

    site = Site(profile, inventory)
    name = f"teacher-10a-{secrets.token_hex(3)}"
    secret = tmp_path / f"{name}.password"
    cli("users", "create", name, "--role", "teacher", "--class", "10A", "--school", "hillside",
        "--password-file", str(secret), *args)
    site.log_in(name, secret.read_text(encoding="utf-8").strip())
    status, body = site.request("/api/students/?school=hillside")
    assert status == 200, body
    # A teacher sees the students of their own class only.
    assert sorted(s["student_id"] for s in body["results"]) == ["HS-0001", "HS-0002"]
    listed = json.loads(cli("users", "list", "--json", *args).stdout)
    assert next(u for u in listed if u["username"] == name)["classes"] == ["hillside 10A"]


def test_an_admin_retrains_the_models_through_the_deployed_worker(small):
    """POST /api/models/training/ reaches a Celery worker (the ml_training queue is routed
    and consumed) and the run finishes with its versions, or names the missing data."""
    site = Site(*small)
    status, _ = site.request("/api/models/training/", "POST", {})
    assert status == 401
    site.token = site.staff_tokens(f"trainer-{secrets.token_hex(3)}", 1)[0]
    status, body = site.request("/api/models/training/", "POST", {})
    assert status == 202, body
    run = site.wait_for(urllib.parse.urlparse(body["status_url"]).path,
                        lambda b: b["status"] in ("done", "failed"), timeout=300)
    if run["status"] == "failed":
        assert "need scores" in run["error"], run
    else:
        assert set(run["versions"]) >= {"peer_analyzer", "performance_predictor"}, run
