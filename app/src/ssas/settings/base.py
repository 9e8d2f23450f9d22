"""Settings shared by every deployment.

Deployment specific values (databases, caches, broker, hosts, TLS) are set by a
settings module rendered by the deploy toolkit, which starts with
``from ssas.settings.base import *``; see ``production_example.py``.
"""

import os
from pathlib import Path

from celery.schedules import crontab

PACKAGE_DIR = Path(__file__).resolve().parent.parent
# Writable state defaults to ./var under the working directory; production overrides.
BASE_DATA_DIR = Path(os.environ.get("SSAS_DATA_DIR", Path.cwd() / "var"))

# No default on purpose: only dev/test settings may invent a key.
SECRET_KEY = os.environ.get("SSAS_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    # First: its registration/ templates replace the admin's look for staff sign-in pages.
    "ssas.accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "ssas.students",
    "ssas.ml",
    "ssas.reports",
    "ssas.analytics",
    "ssas.monitoring",
    "ssas.api",
    "ssas.sharding",
]

MIDDLEWARE = [
    "ssas.monitoring.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ssas.monitoring.middleware.ActiveUserMiddleware",
    # Picks the school's shard per request; passes everything through when not sharded.
    "ssas.sharding.middleware.ShardMiddleware",
]

ROOT_URLCONF = "ssas.urls"
WSGI_APPLICATION = "ssas.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ssas.sharding.context_processors.shard",
            ],
        },
    },
]

# Placeholder so that `check` works before the toolkit renders real settings.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DATA_DIR / "ssas.sqlite3",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ssas"},
    "ml_cache": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "ssas-ml",
        "TIMEOUT": 1800,
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DATA_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DATA_DIR / "media"

# Every role signs in at /accounts/login/ (the admin's own login admits staff only).
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Password-reset mail: files under the data directory unless the deployment's settings
# configure SMTP (a sandbox or a school without a mail relay can still read the link there).
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = BASE_DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = "ssas@localhost"
PASSWORD_RESET_TIMEOUT = 3 * 3600  # seconds: a reset link works for three hours

# Security headers that do not depend on the deployment.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Load balancers and Prometheus probe plain HTTP on the backend port.
SECURE_REDIRECT_EXEMPT = [r"^monitoring/(health|ready|live)/$", r"^metrics$"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: anonymous API clients get 401 + WWW-Authenticate: Token.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # No Basic authentication: it would let anyone guess passwords on every API route at
        # the API's rate; passwords go only to the rate-limited sign-in routes (the login
        # page, /api/auth/token/).
    ],
    "DEFAULT_PERMISSION_CLASSES": ["ssas.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "ssas.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["ssas.api.throttles.UserThrottle"],
    # Per signed-in user (ssas.api.throttles); the load balancer limits per address.
    "DEFAULT_THROTTLE_RATES": {"user": "2000/hour", "ml": "120/hour", "ml_page": "600/hour"},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# OpenAPI 3 schema at /api/schema/ (drf-spectacular), for signed-in users; the committed
# copy is docs/openapi.yaml (a test keeps it equal to what the code generates).
SPECTACULAR_SETTINGS = {
    "TITLE": "Smart Student Analytics System API",
    "DESCRIPTION": "Students, scores and their ML analyses. Token or session authentication; "
                   "teachers see their own classes' students, admins write.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                   "formatter": "plain"},
    },
    "root": {"handlers": ["stdout"], "level": os.environ.get("SSAS_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- SSAS settings (every one has a default; production may override) ---
SSAS_ML_MODEL_DIR = BASE_DATA_DIR / "ml_models"  # per-host cache; the models live in the database
SSAS_ML_KEEP_VERSIONS = 3
SSAS_ML_VERSION_CHECK_SECONDS = 5  # how long a process trusts its idea of the current model
SSAS_ML_CACHE_TIMEOUT = 1800
SSAS_ACTIVE_USER_WINDOW = 300  # seconds a user counts as active after a request
SSAS_HEALTH_DISK_PATH = BASE_DATA_DIR
SSAS_HEALTH_DISK_MAX_PERCENT = 95
# Shard database aliases (["shard_0", "shard_1", ...]); empty: a single database, no
# sharding. With shards, DATABASE_ROUTERS = ["ssas.routers.SchoolShardRouter"] (see
# ssas.sharding); which school is on which shard is stored in the database.
SSAS_SHARDS: list[str] = []

# --- Celery (namespace CELERY_) ---
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ROUTES = {
    "ml.tasks.batch_analysis": {"queue": "ml_heavy"},
    "ml.tasks.single_analysis": {"queue": "ml_fast"},
    "ml.tasks.train_models": {"queue": "ml_training"},
    "reports.tasks.generate_report": {"queue": "reports"},
    "analytics.tasks.daily_aggregation": {"queue": "analytics"},
}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Long ML tasks: acknowledge after the work, fetch one at a time, and keep the
# Redis visibility timeout above the hard limit plus queue wait so a task is not
# handed to a second worker while still running.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 600
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "daily-aggregation": {
        "task": "analytics.tasks.daily_aggregation",
        # Nightly jobs at 04:15 and 04:45 in the school's zone (CELERY_TIMEZONE): after the
        # hours daylight-saving changes skip or repeat (01:00-03:00 almost everywhere).
        "schedule": crontab(hour=4, minute=15),
    },
    # Retrain when the scores changed since the last successful training (TrainingRun).
    "nightly-retrain": {
        "task": "ml.tasks.train_models",
        "schedule": crontab(hour=4, minute=45),
        "kwargs": {"trigger": "nightly", "only_if_changed": True},
    },
}
