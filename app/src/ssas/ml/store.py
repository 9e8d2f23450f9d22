"""Versioned model files: <dir>/<name>/<version>.joblib plus a `current` pointer file.

Writes go to a temporary file and are renamed, so readers on other processes
never see half a model; old versions beyond SSAS_ML_KEEP_VERSIONS are removed.
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import joblib
from django.conf import settings

_loaded: dict[tuple[str, str, str], dict] = {}
_lock = threading.Lock()


class ModelStore:
    def __init__(self, root: str | os.PathLike | None = None, keep: int | None = None):
        self.root = Path(root or settings.SSAS_ML_MODEL_DIR)
        self.keep = keep or settings.SSAS_ML_KEEP_VERSIONS

    def _dir(self, name: str) -> Path:
        return self.root / name

    def _atomic_write(self, path: Path, write) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def save(self, name: str, bundle: dict) -> str:
        now = datetime.now(UTC)
        version = f"{now:%Y%m%dT%H%M%S.%f}-{uuid.uuid4().hex[:6]}"  # sortable by time
        bundle = {**bundle, "version": version, "trained_at": now.isoformat()}
        self._atomic_write(self._dir(name) / f"{version}.joblib",
                           lambda fh: joblib.dump(bundle, fh))
        self._atomic_write(self._dir(name) / "current", lambda fh: fh.write(version.encode()))
        self.prune(name)
        return version

    def versions(self, name: str) -> list[str]:
        return sorted(p.stem for p in self._dir(name).glob("*.joblib"))

    def prune(self, name: str) -> None:
        current = self.current_version(name)
        for old in self.versions(name)[: -self.keep]:
            if old != current:
                (self._dir(name) / f"{old}.joblib").unlink(missing_ok=True)

    def current_version(self, name: str) -> str | None:
        try:
            version = (self._dir(name) / "current").read_text().strip()
        except FileNotFoundError:
            return None
        return version if (self._dir(name) / f"{version}.joblib").exists() else None

    def load(self, name: str) -> dict | None:
        """Load the current version, reusing the in-memory copy while it stays current."""
        version = self.current_version(name)
        if version is None:
            return None
        key = (str(self.root), name, version)
        with _lock:
            if key not in _loaded:
                for stale in [k for k in _loaded if k[:2] == key[:2]]:
                    del _loaded[stale]
                _loaded[key] = joblib.load(self._dir(name) / f"{version}.joblib")
            return _loaded[key]
