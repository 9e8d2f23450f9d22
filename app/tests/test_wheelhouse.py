"""Build the offline wheelhouse and install from it alone into a fresh venv."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _offline_env():
    # Ignore this machine's pip configuration (extra indexes, find-links):
    # the wheelhouse alone must be enough.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def test_wheelhouse_installs_offline(tmp_path):
    house = tmp_path / "wheelhouse"
    # As apply builds it (scripts/build-wheelhouse.sh), completed for the interpreter that
    # installs from it below: Debian's 3.11.2 needs wheels the lock's 3.11.7 does not.
    subprocess.run(["bash", str(APP_DIR.parent / "scripts/build-wheelhouse.sh"), str(house)],
                   check=True, timeout=600,
                   env={**os.environ, "PYTHON": sys.executable, "HOST_PYTHON": sys.executable})
    assert len(list(house.glob("ssas_app-0.1.0-*.whl"))) == 1
    assert (house / "requirements.lock").is_file()

    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    py = target / "bin" / "python"
    env = _offline_env()
    subprocess.run([str(py), "-m", "pip", "install", "--no-index", "--find-links", str(house),
                    "ssas-app"], check=True, env=env, timeout=600)

    frozen = subprocess.run([str(py), "-m", "pip", "freeze"], env=env, check=True,
                            capture_output=True, text=True).stdout.lower()
    lock = (APP_DIR / "requirements.lock").read_text().lower()
    for pin in ("django==", "celery==", "scikit-learn==", "psycopg-binary==", "gunicorn=="):
        line = next(x for x in lock.splitlines() if x.startswith(pin))
        assert line.split()[0] in frozen, line

    work = tmp_path / "work"
    work.mkdir()
    env["DJANGO_SETTINGS_MODULE"] = "ssas.settings.dev"
    manage = str(target / "bin" / "ssas-manage")
    for args in (["migrate", "-v0"], ["generate_school", "--students", "30", "--seed", "1"],
                 ["train_models"], ["check"]):
        subprocess.run([manage, *args], cwd=work, env=env, check=True, timeout=300)
    subprocess.run([str(target / "bin" / "gunicorn"), "--check-config", "ssas.wsgi:application"],
                   cwd=work, env=env, check=True, timeout=120)
