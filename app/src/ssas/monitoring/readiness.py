"""Warm-up and readiness: one routine behind /monitoring/ready/ and gunicorn's
post_worker_init hook (ssas.monitoring.gunicorn_hooks).

`warm_up()` does, in this order, and times each step:

- urlconf:   import ROOT_URLCONF and every module it includes (the views, DRF, the ML
             service) and build the reverse() tables;
- database:  a working connection (SELECT 1) on every configured database alias;
- cache:     a set/get round trip on the `default` and `ml_cache` caches;
- ml_models: load the current version of every model into this process's model cache
             (ssas.ml.store), so the first ML request does not unpickle it. A model that
             has never been trained is reported as `not_trained` and is *not* a failure.

Every step runs even when an earlier one failed, and none raises: a failure becomes a
reason in the result. The result is JSON-ready:

    {"status": "ready" | "not_ready", "duration_ms": 12.3,
     "checks": {"urlconf": {"status": "ok", "duration_ms": ..., ...}, "database": ...,
                "cache": ..., "ml_models": ...},
     "reason": "..."}            # only when not ready

Reasons name the check, the alias or model and the exception class, never the
exception text (the endpoint is reachable through the public proxy); the full error
is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django.urls import get_resolver

log = logging.getLogger(__name__)

READY = "ready"
NOT_READY = "not_ready"
_DUMMY = "django.db.backends.dummy"


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def _urlconf() -> tuple[dict, list[str]]:
    resolver = get_resolver()
    patterns = resolver.url_patterns  # imports ROOT_URLCONF and everything it includes
    resolver.reverse_dict  # noqa: B018 - populates the reverse() lookup tables
    return {"patterns": len(patterns)}, []


def _databases() -> tuple[dict, list[str]]:
    aliases, reasons = {}, []
    for alias in settings.DATABASES:
        if connections[alias].settings_dict["ENGINE"] == _DUMMY:
            continue  # e.g. an empty `default` when every model lives on shards
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as exc:  # noqa: BLE001 - reported, and logged here
            log.warning("readiness: database %r unreachable", alias, exc_info=True)
            aliases[alias] = f"error: {type(exc).__name__}"
            reasons.append(f"database {alias!r} unreachable ({type(exc).__name__})")
        else:
            aliases[alias] = "ok"
    return {"aliases": aliases}, reasons


def _caches() -> tuple[dict, list[str]]:
    from .health import check_caches

    aliases = check_caches()
    reasons = [f"cache {alias!r} unreachable ({state.removeprefix('error: ')})"
               for alias, state in aliases.items() if state != "ok"]
    return {"aliases": aliases}, reasons


def _ml_models() -> tuple[dict, list[str]]:
    from ssas.ml.estimators import MODEL_NAMES
    from ssas.ml.store import ModelStore

    store = ModelStore()
    versions = store.current_versions(MODEL_NAMES)  # one query for all names
    models, reasons = {}, []
    for name in MODEL_NAMES:
        if versions[name] is None:
            models[name] = {"status": "not_trained", "version": None}
            continue
        try:
            bundle = store.load(name)
        except Exception as exc:  # noqa: BLE001 - reported, and logged below
            log.warning("readiness: cannot load model %s", name, exc_info=True)
            models[name] = {"status": f"error: {type(exc).__name__}", "version": versions[name]}
            reasons.append(f"model {name!r} not loaded ({type(exc).__name__})")
            continue
        if bundle is None:  # pruned and nothing newer: same as never trained
            models[name] = {"status": "not_trained", "version": None}
        else:
            models[name] = {"status": "loaded", "version": bundle["version"]}
    return {"models": models}, reasons


STEPS: tuple[tuple[str, Callable[[], tuple[dict, list[str]]]], ...] = (
    ("urlconf", _urlconf),
    ("database", _databases),
    ("cache", _caches),
    ("ml_models", _ml_models),
)


def warm_up(progress: Callable[[], object] | None = None) -> dict:
    """Run every step (see the module docstring); never raises.

    `progress` is called after each step (gunicorn's worker.notify, so a slow warm-up
    is not mistaken for a hung worker).
    """
    start = time.perf_counter()
    checks: dict[str, dict] = {}
    reasons: list[str] = []
    for name, step in STEPS:
        step_start = time.perf_counter()
        try:
            detail, errors = step()
        except Exception as exc:  # noqa: BLE001 - a failed step is a reason, not a crash
            log.warning("readiness: %s check failed", name, exc_info=True)
            detail, errors = {}, [f"{name} failed ({type(exc).__name__})"]
        checks[name] = {"status": "error" if errors else "ok", **detail,
                        "duration_ms": _ms(step_start)}
        reasons += errors
        if progress is not None:
            try:
                progress()
            except Exception:  # noqa: BLE001
                log.debug("readiness: progress callback failed", exc_info=True)
    body: dict = {"status": NOT_READY if reasons else READY, "duration_ms": _ms(start),
                  "checks": checks}
    if reasons:
        body["reason"] = "; ".join(reasons)
    return body


def summary(body: dict) -> str:
    """One log line: status, total and per-step durations, and the reason if any."""
    steps = ", ".join(f"{name} {check['duration_ms']:.0f} ms"
                      for name, check in body["checks"].items())
    text = f"{body['status']} in {body['duration_ms']:.0f} ms ({steps})"
    return f"{text}: {body['reason']}" if "reason" in body else text
