"""Test settings: dev, plus PostgreSQL / Redis when the test env vars point at them.

SSAS_TEST_DATABASE_URL  postgresql://user@host:port/dbname (host may be a socket dir)
SSAS_TEST_REDIS_URL     redis://127.0.0.1:port/0 (Celery broker for worker tests)
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .dev import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests only
# Tests point this at a per-test tmp_path; the default only has to be harmless.
SSAS_ML_MODEL_DIR = Path(tempfile.gettempdir()) / "ssas-test-models"


def _postgres_from_url(url: str) -> dict:
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/") or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(parts.port or ""),
    }


# Two shard databases beside `default` (used by the sharding tests, which turn the
# router on): extra SQLite files, or extra databases on the same PostgreSQL server.
SHARD_ALIASES = ["shard_0", "shard_1"]
if os.environ.get("SSAS_TEST_DATABASE_URL"):
    DATABASES = {"default": _postgres_from_url(os.environ["SSAS_TEST_DATABASE_URL"])}
    for _alias in SHARD_ALIASES:
        DATABASES[_alias] = {**DATABASES["default"], "NAME": f"ssas_{_alias}"}
else:
    for _alias in SHARD_ALIASES:
        DATABASES[_alias] = {  # noqa: F405
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": Path(tempfile.gettempdir()) / f"ssas-test-{_alias}.sqlite3",
        }

if os.environ.get("SSAS_TEST_REDIS_URL"):
    CELERY_BROKER_URL = os.environ["SSAS_TEST_REDIS_URL"]
