"""The product as a user installs it: the built wheel in a venv of its own, run outside the
checkout, re-applies the small sandbox (applied from the checkout) and changes nothing.

That proves the wheel carries everything `apply` needs (roles, templates, plugins, the app's
sources and lock, Ansible and its collections as dependencies), and that the app wheelhouse
it builds on the control node is byte-identical to the checkout's, so the hosts reinstall
nothing. scripts/test.sh's wheel stage builds the venv once (SSAS_INSTALLED_VENV); run alone,
this test builds it itself.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .checks import changed_tasks
from .conftest import VAULT_PASSWORD

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory) -> Path:
    given = os.environ.get("SSAS_INSTALLED_VENV")
    if given:
        return Path(given)
    root = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(root),
                    str(REPO)], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    wheel = next(root.glob("ssas_deploy-*.whl"))
    subprocess.run([str(root / "venv/bin/pip"), "install", "-q", str(wheel)], check=True,
                   capture_output=True)
    return root / "venv"


def outside_env(venv: Path, cache: Path) -> dict[str, str]:
    """The environment of a user who installed the wheel: none of the checkout's paths, and
    an empty cache so the app wheelhouse is built from the sources the wheel carries."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHON"}}
    env.update(PATH=f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", XDG_CACHE_HOME=str(cache),
               SSAS_VAULT_PASSWORD=VAULT_PASSWORD, SSAS_DEPLOY_WIDTH="160")
    return env


def test_installed_wheel_reapplies_the_small_sandbox_with_no_change(small, installed_venv,
                                                                    tmp_path):
    profile, inventory = small
    env = outside_env(installed_venv, tmp_path / "cache")
    where = subprocess.run([str(installed_venv / "bin/python"), "-c",
                            "import ssas_deploy; print(ssas_deploy.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert str(REPO) not in where.stdout, f"the checkout's package was imported: {where.stdout}"

    result = subprocess.run([str(installed_venv / "bin/ssas-deploy"), "apply", "--profile",
                             str(profile), "--inventory", str(inventory), "--force"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert changed_tasks(result.stdout) == 0, result.stdout[-3000:]
    built = list((tmp_path / "cache/ssas-deploy/wheelhouse").glob("*/ssas_app-*.whl"))
    assert len(built) == 1, "apply did not build the wheelhouse from the wheel's own sources"
