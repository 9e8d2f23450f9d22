"""The app's offline wheelhouse, built once per app version and reused by every apply."""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
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


def wheelhouse_key(app_dir: Path, builder: Path | None = None) -> str:
    """Changes whenever the app's code or pinned dependencies change, or what builds them:
    the builder script, SOURCE_DATE_EPOCH and HOST_PYTHON (all change the wheels' bytes)."""
    digest = hashlib.sha256()
    if builder is not None and builder.is_file():
        digest.update(builder.read_bytes())
    for name in ("SOURCE_DATE_EPOCH", "HOST_PYTHON"):
        digest.update(f"{name}={os.environ.get(name, '')}\n".encode())
    for path in sorted(app_dir.rglob("*")):
        relative = path.relative_to(app_dir)
        if path.is_file() and _is_source(relative):
            digest.update(str(relative).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _is_source(relative: Path) -> bool:
    skipped = {"tests", "__pycache__", "build", "dist", "var", ".pytest_cache", ".ruff_cache"}
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
    target = cache_dir() / wheelhouse_key(app_dir, builder)
    if _complete(target):
        return target
    # Built in a folder of this run's own and renamed when complete: an interrupted build is
    # never taken for one, and two applies building at once do not touch each other's.
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{target.name}.partial-"))
    try:
        env = {**os.environ, "PYTHON": os.environ.get("PYTHON") or sys.executable}
        result = subprocess.run(["bash", str(builder), str(partial)], capture_output=True,
                                text=True, env=env)
        if result.returncode != 0:
            raise OperationFailedError(
                f"building the app wheelhouse failed:\n{result.stderr[-2000:]}")
        if not _complete(target):  # else another apply finished first: keep its copy
            shutil.rmtree(target, ignore_errors=True)
            try:
                partial.rename(target)
            except OSError:
                if not _complete(target):  # not a build that won the race: a real error
                    raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _complete(wheelhouse: Path) -> bool:
    """An app wheel and its lock: what every finished build holds."""
    return (any(wheelhouse.glob("ssas_app-*.whl"))
            and (wheelhouse / "requirements.lock").is_file())
