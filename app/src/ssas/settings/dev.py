"""Local development and test settings: SQLite, in-process caches, no secrets."""

from .base import *  # noqa: F403
from .base import BASE_DATA_DIR

DEBUG = True
SECRET_KEY = "dev-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
BASE_DATA_DIR.mkdir(parents=True, exist_ok=True)

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DATA_DIR / "dev.sqlite3",
    }
}
