"""Sharded deployments: the rendered settings name what the app reads (its router class,
SSAS_SHARDS as a list of aliases), the role migrates every shard database, and
`plan --explain` describes the app's placement rule."""

import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ssas_deploy.cli.app import app
from ssas_deploy.context.build import build
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.rendering import render_deployment, write_tree

from ..conftest import REPO
from .test_validators import app_environment, private_addresses


def _settings(profile):
    files = render_deployment(build(profile, private_addresses(profile)))
    return files, next(f for f in files if f.spec.dest.endswith("ssas_settings.py"))


def test_sharded_settings_route_with_the_apps_router(tmp_path):
    ssas = pytest.importorskip("ssas", reason="the SSAS app is installed by scripts/test.sh")
    files, settings = _settings(load_profile("very-large"))
    assert 'DATABASE_ROUTERS = ["ssas.routers.SchoolShardRouter"]' in settings.content
    assert "SSAS_SHARDS = ['shard_0', 'shard_1', 'shard_2', 'shard_3']" in settings.content
    assert not [f for f in files if "shards.json" in f.spec.dest]
    write_tree(files, tmp_path / "out")
    env = app_environment(tmp_path / "out" / settings.host)
    # The app under test (a worktree's copy may shadow the installed one).
    env["PYTHONPATH"] += ":" + str(Path(ssas.__file__).resolve().parents[1])
    probe = ("from django.conf import settings as s; from django.db import router; "
             "from django.utils.module_loading import import_string as i; "
             "[i(r) for r in s.DATABASE_ROUTERS]; "
             "print(type(router.routers[0]).__name__, s.SSAS_SHARDS, "
             "all(a in s.DATABASES for a in s.SSAS_SHARDS))")
    result = subprocess.run(["python", "-m", "ssas.manage", "shell", "-c", probe],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]  # after the shell's own notes
    assert last.split()[0] == "SchoolShardRouter" and last.endswith("True")


@pytest.mark.parametrize("profile", ["small", "large", "replicas-only"])
def test_no_router_without_shards(profile, tmp_path):
    if profile == "replicas-only":  # read replicas but no shard: still no router
        source = tmp_path / "replicas.yaml"
        source.write_text("extends: very-large\nname: replicas\nhosts:\n"
                          "  database_shard: null\n")
        profile = str(source)
    _, settings = _settings(load_profile(profile))
    assert "DATABASE_ROUTERS" not in settings.content
    assert "SSAS_SHARDS = []" in settings.content


def test_the_role_migrates_every_shard_database():
    tasks = yaml.safe_load((REPO / "roles/ssas_app/tasks/service.yml").read_text())
    [shards] = [t for t in tasks if t.get("loop") == "{{ ssas_django_shards }}"]
    argv = shards["ansible.builtin.command"]["argv"]
    assert argv[-4:] == ["migrate_locked", "--database", "{{ item }}", "--noinput"]
    assert shards["when"] == "ssas_app_run_migrations"


def test_plan_explain_describes_the_database_shard_map():
    result = CliRunner().invoke(app, ["plan", "--profile", "very-large", "--explain"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Shards (keyed by school code)" in text
    assert "the school -> shard map lives in the default database" in text
    assert "fewest schools" in text and "crc32" not in text
