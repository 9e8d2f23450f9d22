"""Health checks. Only the database is fatal; everything else degrades but stays 200."""

import os
import secrets
import time
from pathlib import Path

import psutil
from django.conf import settings
from django.core.cache import caches
from django.db import connections

from ssas.ml.service import get_system_health


def check_databases() -> dict:
    result = {}
    for alias in settings.DATABASES:
        if not settings.DATABASES[alias].get("ENGINE"):
            continue  # e.g. an empty `default` when every model lives on shards
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            result[alias] = "ok"
        except Exception as exc:  # noqa: BLE001
            result[alias] = f"error: {type(exc).__name__}"
    return result


def check_caches() -> dict:
    result = {}
    for alias in ("default", "ml_cache"):
        key, token = f"health-check:{os.getpid()}", secrets.token_hex(4)
        try:
            cache = caches[alias]
            cache.set(key, token, 10)
            ok = cache.get(key) == token  # IGNORE_EXCEPTIONS backends fail silently
            result[alias] = "ok" if ok else "error: read back failed"
        except Exception as exc:  # noqa: BLE001
            result[alias] = f"error: {type(exc).__name__}"
    return result


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_resources() -> dict:
    disk = psutil.disk_usage(str(_existing(Path(settings.SSAS_HEALTH_DISK_PATH).resolve())))
    return {
        "disk_percent": disk.percent,
        "memory_percent": psutil.virtual_memory().percent,
        "load_average": os.getloadavg()[0],
    }


def run_checks() -> tuple[dict, int]:
    databases = check_databases()
    cache = check_caches()
    resources = check_resources()
    ml = get_system_health()
    if any(v != "ok" for v in databases.values()):
        status = "unhealthy"
    elif (any(v != "ok" for v in cache.values()) or ml["status"] != "healthy"
          or resources["disk_percent"] >= settings.SSAS_HEALTH_DISK_MAX_PERCENT):
        status = "degraded"
    else:
        status = "healthy"
    body = {
        "status": status,
        "timestamp": time.time(),
        "checks": {"database": databases, "cache": cache, **resources, "ml_models": ml},
    }
    return body, 503 if status == "unhealthy" else 200
