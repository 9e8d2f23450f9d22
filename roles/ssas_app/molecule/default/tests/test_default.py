"""Verify the ssas_app role on a real (containerised) Debian 12 host, small tier with SQLite."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

SCENARIO = Path(__file__).resolve().parents[1]
REPO = SCENARIO.parents[3]
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
HELPER = "/usr/local/sbin/ssas-env"

# Non-secret files the role writes, compared byte for byte with `ssas-deploy render`.
CONFIG_FILES = [
    "/etc/ssas/ssas_settings.py",
    "/etc/ssas/ssas_celery.py",
    "/etc/ssas/gunicorn.conf.py",
    "/etc/systemd/system/ssas-gunicorn.service",
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The CLI's output for the scenario's profile: {path: (bytes, manifest entry)}."""
    out = tmp_path_factory.mktemp("render")
    cli = Path(sys.executable).parent / "ssas-deploy"
    subprocess.run([str(cli), "render", "--profile", str(EPHEMERAL / "profile.yml"), "--out", str(out)],
                   check=True, capture_output=True)
    manifest = json.loads((out / "manifest.json").read_text())
    return {f["path"]: ((out / "web-1" / f["path"].lstrip("/")).read_text(), f)
            for f in manifest["files"] if f["host"] == "web-1"}


@pytest.fixture(scope="module")
def hostvars():
    return json.loads((EPHEMERAL / "hostvars.json").read_text())


@pytest.mark.parametrize("path", CONFIG_FILES)
def test_config_equals_cli_render(host, rendered, path):
    content, spec = rendered[path]
    deployed = host.file(path)
    assert deployed.exists
    assert (deployed.user, deployed.group, deployed.mode) == (spec["owner"], spec["group"], int(spec["mode"], 8))
    assert deployed.content_string == content


def test_secrets_env_is_private_and_complete(host, rendered):
    _, spec = rendered["/etc/ssas/secrets.env"]
    secrets = host.file("/etc/ssas/secrets.env")
    assert (secrets.user, secrets.group) == ("root", "ssas") == (spec["owner"], spec["group"])
    assert secrets.mode == 0o640 == int(spec["mode"], 8)
    assert not secrets.mode & 0o007, "secrets must not be world-readable"
    test_secrets = yaml.safe_load((SCENARIO / "vars.yml").read_text())["ssas_secrets"]
    lines = secrets.content_string.splitlines()
    assert lines == [
        f"SSAS_SECRET_KEY={test_secrets['django_secret_key']}",
        f"SSAS_DB_PASSWORD={test_secrets['db_password']}",
        f"SSAS_REDIS_CACHE_PASSWORD={test_secrets['redis_cache_password']}",
        f"SSAS_REDIS_BROKER_PASSWORD={test_secrets['redis_broker_password']}",
    ]


@pytest.mark.parametrize(("path", "owner", "group", "mode"), [
    ("/etc/ssas", "root", "ssas", 0o750),
    ("/opt/ssas", "ssas", "ssas", 0o750),
    ("/opt/ssas/releases", "root", "root", 0o755),
    ("/var/lib/ssas", "ssas", "ssas", 0o750),
    ("/var/lib/ssas/media", "ssas", "ssas", 0o750),
    ("/var/lib/ssas/models", "ssas", "ssas", 0o750),
    ("/var/www/ssas/static", "root", "root", 0o755),
    (HELPER, "root", "root", 0o755),
])
def test_paths(host, path, owner, group, mode):
    item = host.file(path)
    assert item.exists
    assert (item.user, item.group, item.mode) == (owner, group, mode)


def test_venv_has_the_wheelhouse_version(host):
    wheel = next((EPHEMERAL / "wheelhouse").glob("ssas_app-*.whl")).name
    version = wheel.split("-")[1]
    out = host.check_output("/opt/ssas/current/venv/bin/pip list --format json --disable-pip-version-check")
    installed = {p["name"].lower(): p["version"] for p in json.loads(out)}
    assert installed["ssas-app"] == version
    assert host.file("/opt/ssas/current/venv/.ssas-wheelhouse").content_string.startswith(f"ssas-app=={version} ")
    # The release lives in its own directory; `current` names it and the units run it.
    current = host.file("/opt/ssas/current")
    assert current.is_symlink and current.linked_to.startswith(f"/opt/ssas/releases/{version}-")
    status = json.loads(host.check_output("/usr/local/sbin/ssas-release status ssas-gunicorn.service"))
    assert status["units"]["ssas-gunicorn.service"]["release"] == status["current"]


def test_gunicorn_running_enabled_as_app_user(host):
    service = host.service("ssas-gunicorn")
    assert service.is_running
    assert service.is_enabled
    assert host.check_output("systemctl show -P Type ssas-gunicorn") == "notify"
    masters = host.process.filter(comm="gunicorn", user="ssas")
    assert len(masters) >= 3, "master plus 2 workers, as the app user"
    assert not host.process.filter(comm="gunicorn", user="root")


def test_gunicorn_listens_only_on_loopback_8000(host, hostvars):
    assert hostvars["gunicorn_bind"] == "127.0.0.1:8000"
    assert host.socket("tcp://127.0.0.1:8000").is_listening
    listeners = [s for s in host.socket.get_listening_sockets() if s.endswith(":8000")]
    assert listeners == ["tcp://127.0.0.1:8000"]


def health(host):
    cmd = host.run("curl -sS -w '\\n%{http_code}' http://127.0.0.1:8000/monitoring/health/ "
                   "-H 'X-Forwarded-Proto: https' -H 'Host: localhost'")
    assert cmd.rc == 0, cmd.stderr
    body, status = cmd.stdout.rsplit("\n", 1)
    return int(status), json.loads(body)


def test_health_endpoint(host):
    status, body = health(host)
    assert status == 200
    assert body["checks"]["database"] == {"default": "ok"}
    assert body["checks"]["cache"] == {"default": "ok", "ml_cache": "ok"}
    assert body["status"] in ("healthy", "degraded")  # degraded: no ML model trained yet


def test_plain_http_is_redirected_to_https(host):
    status = host.check_output("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/api/ -H 'Host: localhost'")
    assert status == "301"


def test_reload_keeps_the_master_and_serves(host):
    before = host.check_output("systemctl show -P MainPID ssas-gunicorn")
    host.run_expect([0], "systemctl reload ssas-gunicorn")
    time.sleep(3)
    assert host.check_output("systemctl show -P MainPID ssas-gunicorn") == before
    assert health(host)[0] == 200


def test_check_deploy_is_clean(host):
    """Clean, with only the four header checks silenced: nginx sends those headers, one
    layer (templates/django/ssas_settings.py.j2)."""
    out = host.check_output(f"{HELPER} ssas-manage check --deploy --fail-level WARNING 2>&1")
    assert out.strip() == "System check identified no issues (4 silenced)."
    silenced = host.check_output(
        f"{HELPER} ssas-manage shell -c "
        "'from django.conf import settings; print(sorted(settings.SILENCED_SYSTEM_CHECKS))'")
    # The last line: Django 5.2's shell first says how many objects it imported.
    assert silenced.strip().splitlines()[-1] == str(["security.W002", "security.W004",
                                                     "security.W006", "security.W022"])


def test_migrations_ran(host):
    tables = host.check_output(
        "python3 -c \"import sqlite3; c = sqlite3.connect('file:/var/lib/ssas/db.sqlite3?mode=ro', uri=True); "
        "print(' '.join(r[0] for r in c.execute(\\\"select name from sqlite_master where type='table'\\\")))\"").split()
    assert {"django_migrations", "students_student", "analytics_dailysubjectaggregate"} <= set(tables)
    db = host.file("/var/lib/ssas/db.sqlite3")
    assert (db.user, db.group) == ("ssas", "ssas")
    pending = host.check_output(f"{HELPER} ssas-manage migrate --check --noinput; echo rc=$?")
    assert pending.endswith("rc=0")


def test_static_files_collected(host):
    css = host.file("/var/www/ssas/static/admin/css/base.css")
    assert css.exists
    assert css.user == "root"
    assert css.mode & 0o004
