"""The app's offline wheelhouse, built once per app version and reused by every apply."""

import hashlib
import subprocess
from pathlib import Path

from ssas_deploy.errors import OperationFailedError
from ssas_deploy.resources import data_dir

CACHE_DIR = Path.home() / ".cache" / "ssas-deploy" / "wheelhouse"


def app_source_dir() -> Path:
    """The bundled app's sources (beside the templates in a checkout)."""
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
    """The wheelhouse to ship: the one given, or a cached build of the bundled app."""
    if given is not None:
        if not any(given.glob("ssas_app-*.whl")):
            raise OperationFailedError(f"{given}: no ssas_app wheel in this wheelhouse")
        return given
    app_dir = app_source_dir()
    builder = data_dir("templates").parent / "scripts" / "build-wheelhouse.sh"
    if not builder.is_file():
        raise OperationFailedError("the app sources are not available here: pass --wheelhouse "
                                   "DIR (built with scripts/build-wheelhouse.sh)")
    target = CACHE_DIR / wheelhouse_key(app_dir)
    if any(target.glob("ssas_app-*.whl")):
        return target
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["bash", str(builder), str(target)], capture_output=True, text=True)
    if result.returncode != 0:
        raise OperationFailedError(f"building the app wheelhouse failed:\n{result.stderr[-2000:]}")
    return target
