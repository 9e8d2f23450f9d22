"""The hosts' ssas-release helper, rendered from its role template and run on a scratch tree."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jinja2
import pytest

from tests.conftest import REPO

TEMPLATE = REPO / "roles" / "ssas_app" / "templates" / "ssas-release.py.j2"


@pytest.fixture
def helper(tmp_path):
    """(run(*args) -> parsed JSON or text, app dir, config dir) on a scratch layout."""
    app, config = tmp_path / "opt", tmp_path / "etc"
    (app / "releases").mkdir(parents=True)
    config.mkdir()
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters["to_json"] = json.dumps
    script = tmp_path / "ssas-release"
    script.write_text(environment.from_string(TEMPLATE.read_text()).render(
        ssas_app_dir=str(app), ssas_app_releases_dir=str(app / "releases"),
        ssas_config_dir=str(config), ssas_app_keep_releases=2,
        ssas_app_release_config_files=["ssas_settings.py", "gunicorn.conf.py"]))

    def run(*args, ok=True):
        result = subprocess.run([sys.executable, str(script), *args], capture_output=True,
                                text=True, check=False)
        if ok:
            assert result.returncode == 0, result.stderr
        try:
            return json.loads(result.stdout)
        except ValueError:
            return result.stdout + result.stderr

    return run, app, config


def install(app: Path, name: str) -> None:
    venv = app / "releases" / name / "venv"
    venv.mkdir(parents=True)
    (venv / ".ssas-wheelhouse").write_text(name)
    time.sleep(0.01)  # order of installation = order of the stamps' mtimes


def test_activate_moves_current_and_previous_and_is_idempotent(helper):
    run, app, _ = helper
    install(app, "1.0-a")
    install(app, "1.1-b")
    assert run("activate", "1.0-a")["changed"] is True
    second = run("activate", "1.1-b")
    assert (second["current"], second["previous"]) == ("1.1-b", "1.0-a")
    assert run("activate", "1.1-b")["changed"] is False
    assert os.readlink(app / "current").endswith("/1.1-b")
    assert os.readlink(app / "previous").endswith("/1.0-a")


def test_an_incomplete_release_cannot_become_current(helper):
    run, app, _ = helper
    (app / "releases" / "2.0-c" / "venv").mkdir(parents=True)  # no stamp: interrupted install
    assert "not installed" in run("activate", "2.0-c", ok=False)
    assert not (app / "current").exists()


def test_rollback_restores_the_settings_kept_with_the_release_but_not_secrets(helper):
    run, app, config = helper
    install(app, "1.0-a")
    install(app, "1.1-b")
    (config / "ssas_settings.py").write_text("OLD = 1\n")
    (config / "secrets.env").write_text("SSAS_SECRET_KEY=rotated\n")
    run("activate", "1.0-a")
    assert run("snapshot")["changed"] is True   # before the new release's settings are written
    assert run("snapshot")["changed"] is False
    (config / "ssas_settings.py").write_text("NEW = 1\n")
    run("activate", "1.1-b")
    back = run("rollback")
    assert (back["current"], back["previous"]) == ("1.0-a", "1.1-b")
    assert (config / "ssas_settings.py").read_text() == "OLD = 1\n"
    assert (config / "secrets.env").read_text() == "SSAS_SECRET_KEY=rotated\n"
    # A second rollback rolls forward, with the settings the newer release ran with.
    forward = run("rollback")
    assert forward["current"] == "1.1-b"
    assert (config / "ssas_settings.py").read_text() == "NEW = 1\n"


def test_rollback_without_a_previous_release_refuses(helper):
    run, app, _ = helper
    install(app, "1.0-a")
    run("activate", "1.0-a")
    assert "no previous release" in run("rollback", ok=False)


def test_old_releases_are_pruned_but_never_current_or_previous(helper):
    run, app, _ = helper
    for name in ("1-a", "2-b", "3-c", "4-d"):
        install(app, name)
        run("activate", name)
    left = sorted(p.name for p in (app / "releases").iterdir())
    assert left == ["3-c", "4-d"]
    run("rollback")
    install(app, "5-e")
    run("activate", "5-e")  # previous is now 3-c, the one rolled back to
    # The newest two by installation (4-d, 5-e) and previous (3-c) stay.
    assert sorted(p.name for p in (app / "releases").iterdir()) == ["3-c", "4-d", "5-e"]
    install(app, "6-f")
    run("activate", "6-f")
    assert sorted(p.name for p in (app / "releases").iterdir()) == ["5-e", "6-f"]


def test_stale_reports_nothing_for_units_that_do_not_run(helper):
    run, _, _ = helper
    assert run("stale", "no-such-unit-ssas.service").strip() == ""


def test_start_times_are_read_from_systemd_to_the_microsecond(tmp_path):
    """A unit started 0.4 s after its settings were written is not older than them (the
    kernel's whole-second boot time made such a unit look stale: a needless restart)."""
    import importlib.util

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    environment.filters["to_json"] = json.dumps
    script = tmp_path / "ssas_release.py"
    script.write_text(environment.from_string(TEMPLATE.read_text()).render(
        ssas_app_dir="/opt", ssas_app_releases_dir="/opt/releases", ssas_config_dir="/etc",
        ssas_app_keep_releases=2, ssas_app_release_config_files=[]))
    spec = importlib.util.spec_from_file_location("ssas_release", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    started = module.systemd_timestamp("Tue 2026-12-01 10:59:27.523456 UTC")
    assert started == pytest.approx(1796122767.523456)
    assert module.systemd_timestamp("Di 2026-12-01 10:59:27.523456 UTC") == started
    assert module.systemd_timestamp("") is None
    assert module.systemd_timestamp("n/a") is None
