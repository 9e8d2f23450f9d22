import os
import subprocess
import sys

import pytest

# These run in subprocesses on the dev (SQLite) settings whatever the test database is,
# so the PostgreSQL pass of run.sh skips them instead of repeating them.
pytestmark = pytest.mark.skipif(bool(os.environ.get("SSAS_TEST_DATABASE_URL")),
                                reason="database-independent; covered by the SQLite pass")

PROD_ENV = {
    "SSAS_SECRET_KEY": "x" * 20 + "-a-long-random-production-key-0123456789",
    "SSAS_DB_PASSWORD": "db-pw",
    "SSAS_REDIS_CACHE_PASSWORD": "cache-pw",
    "SSAS_REDIS_BROKER_PASSWORD": "broker-pw",
}


def _run(args, env, **kw):
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("SSAS_") and k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(args, env={**base, **env}, capture_output=True, text=True,
                          timeout=120, **kw)


def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    result = _run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        {**PROD_ENV, "DJANGO_SETTINGS_MODULE": "ssas.settings.production_example"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_dev_settings_do_fail_check_deploy(tmp_path):
    """Proves the check above can fail."""
    result = _run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        {"DJANGO_SETTINGS_MODULE": "ssas.settings.dev"}, cwd=tmp_path,
    )
    assert result.returncode != 0


def test_production_settings_need_the_secrets(tmp_path):
    env = {k: v for k, v in PROD_ENV.items() if k != "SSAS_SECRET_KEY"}
    result = _run([sys.executable, "-c", "import ssas.settings.production_example"], env,
                  cwd=tmp_path)
    assert result.returncode != 0 and "SSAS_SECRET_KEY" in result.stderr


def test_production_settings_have_the_contract():
    env_backup = dict(os.environ)
    os.environ.update(PROD_ENV)
    try:
        import importlib

        prod = importlib.import_module("ssas.settings.production_example")
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    assert set(prod.CACHES) == {"default", "ml_cache"}
    assert prod.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    assert "MAX_CONNS" not in prod.DATABASES["default"]["OPTIONS"]
    assert prod.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert prod.CELERY_BROKER_URL != prod.CACHES["default"]["LOCATION"]
    assert "broker-pw" in prod.CELERY_BROKER_URL
    assert prod.SECRET_KEY == PROD_ENV["SSAS_SECRET_KEY"]


def test_base_settings_have_defaults_for_every_ssas_setting():
    from ssas.settings import base

    ssas = {k: getattr(base, k) for k in dir(base) if k.startswith("SSAS_")}
    assert {"SSAS_ML_MODEL_DIR", "SSAS_SHARDS", "SSAS_ML_KEEP_VERSIONS"} <= set(ssas)
    assert base.SSAS_SHARDS == []  # not sharded


@pytest.mark.parametrize("module", ["ssas.wsgi", "ssas.celery_app"])
def test_entry_points_refuse_to_guess_settings(module, tmp_path):
    result = _run([sys.executable, "-c", f"import {module}"], {}, cwd=tmp_path)
    assert result.returncode != 0 and "DJANGO_SETTINGS_MODULE" in result.stderr


def test_ssas_manage_console_script(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "ssas-manage")
    result = _run([script, "check"], {}, cwd=tmp_path)
    assert result.returncode == 2 and "DJANGO_SETTINGS_MODULE" in result.stderr
    assert "Traceback" not in result.stderr
    result = _run([script, "check"], {"DJANGO_SETTINGS_MODULE": "ssas.settings.dev"},
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_wsgi_application_serves_health(tmp_path):
    code = (
        "from ssas.wsgi import application\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from django.test import Client\n"
        "r = Client().get('/monitoring/health/')\n"
        "print(r.status_code, r.json()['status'])\n"
    )
    result = _run([sys.executable, "-c", code], {"DJANGO_SETTINGS_MODULE": "ssas.settings.dev"},
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "200 degraded"


def test_train_models_reports_errors_without_traceback(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "ssas-manage")
    env = {"DJANGO_SETTINGS_MODULE": "ssas.settings.dev"}
    assert _run([script, "migrate", "-v0"], env, cwd=tmp_path).returncode == 0
    result = _run([script, "train_models"], env, cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot train yet" in result.stderr and "Traceback" not in result.stderr
