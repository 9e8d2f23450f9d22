"""A second build of the app, for upgrade tests: the default wheelhouse with its app wheel
rebuilt from a copy of app/ under the next post-release version (same locked dependencies)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from ssas_deploy.runner.wheelhouse import app_source_dir, ensure_wheelhouse


def next_build(workdir: Path) -> tuple[Path, str]:
    """(wheelhouse dir, app version) of a build that differs from the default one."""
    base = ensure_wheelhouse(None)
    target = workdir / "wheelhouse-next"
    shutil.copytree(base, target)
    for wheel in target.glob("ssas_app-*.whl"):
        wheel.unlink()
    source = workdir / "app-next"
    shutil.copytree(app_source_dir(), source, ignore=shutil.ignore_patterns(
        "tests", "__pycache__", "*.egg-info", "build", "dist", ".venv"))
    pyproject = source / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    version = re.search(r'(?m)^version = "([^"]+)"', text).group(1) + ".post1"
    pyproject.write_text(re.sub(r'(?m)^version = "[^"]+"', f'version = "{version}"', text,
                                count=1),
                         encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(target), str(source)], check=True,
                   stdout=subprocess.DEVNULL)
    assert len(list(target.glob("ssas_app-*.whl"))) == 1
    return target, version
