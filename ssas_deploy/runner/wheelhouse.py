"""The app's offline wheelhouse, built once per app version and reused by every apply."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ssas_deploy.errors import OperationFailedError
from ssas_deploy.resources import data_dir


def cache_dir() -> Path:
    """Where built wheelhouses are kept: $XDG_CACHE_HOME/ssas-deploy/wheelhouse (default
    ~/.cache), one folder per `wheelhouse_key`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ssas-deploy" / "wheelhouse"


def app_source_dir() -> Path:
    """The app's sources: `app/` beside the templates in a checkout, or the copy an
    installed wheel carries (`ssas_deploy/_data/app`: sources, pyproject and lock)."""
    return data_dir("templates").parent / "app"


def wheelhouse_key(app_dir: Path) -> str:
    """Changes whenever the app's code or pinned dependencies change."""
    digest = hashlib.sha256()
    for path in sorted(app_dir.rglob("*")):
        relative = path.relative_to(app_dir)
        if path.is_file() and _is_source(relative):
            digest.update(str(relative).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _is_source(relative: Path) -> bool:
    skipped = {"tests", "__pycache__", "build", "dist", "var", ".pytest_cache"}
    return not (set(relative.parts) & skipped) and not relative.name.endswith(
        (".pyc", ".egg-info")) and ".egg-info" not in str(relative)


def ensure_wheelhouse(given: Path | None) -> Path:
    """The wheelhouse to ship: the one given, or a cached build of the bundled app.

    The build (scripts/build-wheelhouse.sh, with this interpreter unless PYTHON is set)
    downloads the lock's wheels from PyPI once per app version; the app wheel's bytes depend
    only on its sources. Raises OperationFailedError when `given` holds no ssas_app wheel,
    when the app sources are not bundled, or when the build fails (its stderr's tail)."""
    if given is not None:
        if not any(given.glob("ssas_app-*.whl")):
            raise OperationFailedError(f"{given}: no ssas_app wheel in this wheelhouse")
        return given
    app_dir = app_source_dir()
    builder = data_dir("templates").parent / "scripts" / "build-wheelhouse.sh"
    if not builder.is_file():
        raise OperationFailedError("the app sources are not available here: pass --wheelhouse "
                                   "DIR (built with scripts/build-wheelhouse.sh)")
    target = cache_dir() / wheelhouse_key(app_dir)
    if any(target.glob("ssas_app-*.whl")):
        return target
    # Built beside and renamed when complete: an interrupted build is never taken for one.
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    env = {**os.environ, "PYTHON": os.environ.get("PYTHON") or sys.executable}
    result = subprocess.run(["bash", str(builder), str(partial)], capture_output=True, text=True,
                            env=env)
    if result.returncode != 0:
        raise OperationFailedError(f"building the app wheelhouse failed:\n{result.stderr[-2000:]}")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target
