"""What the deploy toolkit renders as the production settings module.

This file documents the contract and is used by the tests; it is never imported
by the app itself. Values in CAPITALS-with-placeholders are filled in by the
toolkit; secrets always come from the environment.

Required environment: SSAS_SECRET_KEY, SSAS_DB_PASSWORD,
SSAS_REDIS_CACHE_PASSWORD, SSAS_REDIS_BROKER_PASSWORD.
"""

import os

from ssas.settings.base import *  # noqa: F403

SECRET_KEY = os.environ["SSAS_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["ssas.example.org"]
CSRF_TRUSTED_ORIGINS = ["https://ssas.example.org"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "ssas",
        "USER": "ssas",
        "PASSWORD": os.environ["SSAS_DB_PASSWORD"],
        "HOST": "127.0.0.1",
        "PORT": "5432",
        # Alias-level keys (not OPTIONS): persistent connections, checked before reuse.
        "CONN_MAX_AGE": 300,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 5},
    }
}
# One entry per shard alias when sharding; a school's rows all live on one shard.
SSAS_SHARDS: dict[str, str] = {}
DATABASE_ROUTERS: list[str] = []  # ["ssas.routers.SchoolShardRouter"] with SSAS_SHARDS

# Cache and broker are separate Redis servers (different eviction/persistence).
_cache_password = os.environ["SSAS_REDIS_CACHE_PASSWORD"]
_cache_options = {
    "CLIENT_CLASS": "django_redis.client.DefaultClient",
    "PASSWORD": _cache_password,
    "SOCKET_CONNECT_TIMEOUT": 1,  # a cache outage must not stall requests
    "SOCKET_TIMEOUT": 1,
    "IGNORE_EXCEPTIONS": True,
}
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6380/0",
        "OPTIONS": _cache_options,
        "KEY_PREFIX": "ssas",
        "TIMEOUT": 300,
    },
    "ml_cache": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6380/1",
        "OPTIONS": _cache_options,
        "KEY_PREFIX": "ssas_ml",
        "TIMEOUT": 1800,
    },
}
# Sessions in the database, so that a cache flush does not log everybody out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

_broker_password = os.environ["SSAS_REDIS_BROKER_PASSWORD"]
CELERY_BROKER_URL = f"redis://:{_broker_password}@127.0.0.1:6379/0"
CELERY_RESULT_BACKEND = f"redis://:{_broker_password}@127.0.0.1:6379/1"
CELERY_WORKER_CONCURRENCY = 2
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 600
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

STATIC_ROOT = "/var/www/ssas/static"
MEDIA_ROOT = "/var/www/ssas/media"
SSAS_ML_MODEL_DIR = "/var/lib/ssas/ml_models"
SSAS_HEALTH_DISK_PATH = "/var/lib/ssas"

# TLS terminates at the reverse proxy, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
