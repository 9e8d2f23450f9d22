"""Versioned models shared by every host through the database.

The `default` database is the source of truth: each trained version is one
ModelArtifact row (the joblib bytes); the newest version of a name is current and
only the last SSAS_ML_KEEP_VERSIONS rows per name are kept. SSAS_ML_MODEL_DIR is a
per-host cache of <dir>/<name>/<version>.joblib files, filled on first load and
written through a temporary file + rename, so readers never see half a model.

The current version is remembered per process for SSAS_ML_VERSION_CHECK_SECONDS, so
hot paths do not query on every request; a version trained elsewhere is picked up
within that delay (at once in the process that trained it).
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import joblib
from django.conf import settings
from django.db import transaction
from django.db.models import Max

from .models import ModelArtifact

log = logging.getLogger(__name__)

DB_ALIAS = "default"

_loaded: dict[tuple[str, str, str], dict] = {}  # (cache dir, name, version) -> bundle
_current: dict[str, tuple[float, str | None]] = {}  # name -> (checked at, version)
_lock = threading.Lock()


def forget_current_versions() -> None:
    """Drop the remembered current versions (the next lookup asks the database)."""
    with _lock:
        _current.clear()


class ModelStore:
    def __init__(self, root: str | os.PathLike | None = None, keep: int | None = None,
                 check_seconds: float | None = None):
        self.root = Path(root or settings.SSAS_ML_MODEL_DIR)
        self.keep = keep or settings.SSAS_ML_KEEP_VERSIONS
        self.check_seconds = (settings.SSAS_ML_VERSION_CHECK_SECONDS
                              if check_seconds is None else check_seconds)

    def _objects(self):
        return ModelArtifact.objects.using(DB_ALIAS)

    def _path(self, name: str, version: str) -> Path:
        return self.root / name / f"{version}.joblib"

    def _atomic_write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _cache_locally(self, name: str, version: str, data: bytes) -> None:
        """Best effort: a host whose model dir is not writable loads from the database."""
        try:
            self._atomic_write(self._path(name, version), data)
            for old in sorted(p.stem for p in (self.root / name).glob("*.joblib"))[: -self.keep]:
                if old != version:
                    self._path(name, old).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot cache model %s %s in %s: %s", name, version, self.root, exc)

    def save(self, name: str, bundle: dict) -> str:
        now = datetime.now(UTC)
        version = f"{now:%Y%m%dT%H%M%S.%f}-{uuid.uuid4().hex[:6]}"  # sortable by time
        bundle = {**bundle, "version": version, "trained_at": now.isoformat()}
        buffer = io.BytesIO()
        joblib.dump(bundle, buffer)
        data = buffer.getvalue()
        with transaction.atomic(using=DB_ALIAS):
            self._objects().create(name=name, version=version, payload=data, size=len(data),
                                   trained_at=now)
            self.prune(name)
        with _lock:
            _current[name] = (time.monotonic(), version)
        self._cache_locally(name, version, data)
        return version

    def versions(self, name: str) -> list[str]:
        return list(self._objects().filter(name=name).order_by("version")
                    .values_list("version", flat=True))

    def prune(self, name: str) -> None:
        """Delete the database rows beyond the newest `keep` versions of `name`."""
        keep = self._objects().filter(name=name).order_by("-version")[: self.keep]
        self._objects().filter(name=name).exclude(
            version__in=list(keep.values_list("version", flat=True))).delete()

    def current_versions(self, names: Iterable[str]) -> dict[str, str | None]:
        """{name: newest version or None}; at most one query for all names."""
        names = list(names)
        now = time.monotonic()
        with _lock:
            known = {n: _current[n] for n in names if n in _current}
        # Only a found version is remembered: "not trained yet" is asked again each time, so
        # the first model trained anywhere is served at once (and the query is cheap).
        result = {n: v for n, (at, v) in known.items()
                  if v is not None and now - at < self.check_seconds}
        missing = [n for n in names if n not in result]
        if missing:
            found = dict(self._objects().filter(name__in=missing).values("name")
                         .annotate(newest=Max("version")).values_list("name", "newest"))
            with _lock:
                for n in missing:
                    result[n] = found.get(n)
                    _current[n] = (now, result[n])
        return result

    def current_version(self, name: str) -> str | None:
        return self.current_versions([name])[name]

    def _read(self, name: str, version: str) -> dict | None:
        path = self._path(name, version)
        try:
            return joblib.load(path)
        except (FileNotFoundError, NotADirectoryError):
            pass  # not cached on this host yet
        except Exception as exc:  # noqa: BLE001 - a damaged cache file is refetched
            log.warning("ignoring unreadable cached model %s: %s", path, exc)
        payload = (self._objects().filter(name=name, version=version)
                   .values_list("payload", flat=True).first())
        if payload is None:
            return None  # pruned meanwhile (a newer version exists)
        data = bytes(payload)
        self._cache_locally(name, version, data)
        return joblib.load(io.BytesIO(data))

    def load(self, name: str) -> dict | None:
        """Load the current version, reusing the in-memory copy while it stays current."""
        version = self.current_version(name)
        if version is None:
            return None
        key = (str(self.root), name, version)
        with _lock:
            if key in _loaded:
                return _loaded[key]
        bundle = self._read(name, version)
        if bundle is None:  # our remembered version is gone: ask the database again
            with _lock:
                _current.pop(name, None)
            version = self.current_version(name)
            if version is None:
                return None
            key = (str(self.root), name, version)
            bundle = self._read(name, version)
            if bundle is None:
                return None
        with _lock:
            for stale in [k for k in _loaded if k[:2] == key[:2] and k != key]:
                del _loaded[stale]
            return _loaded.setdefault(key, bundle)

