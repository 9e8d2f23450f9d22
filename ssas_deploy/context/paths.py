"""Fixed locations on every managed host (the contract between templates and roles)."""

APP_USER = "ssas"
APP_DIR = "/opt/ssas"
# The live release's venv: `current` links to /opt/ssas/releases/<release> (ssas_app role).
VENV = "/opt/ssas/current/venv"
CONFIG_DIR = "/etc/ssas"
DATA_DIR = "/var/lib/ssas"
STATIC_ROOT = "/var/www/ssas/static"
MEDIA_ROOT = "/var/lib/ssas/media"
ML_MODEL_DIR = "/var/lib/ssas/models"
SQLITE_PATH = "/var/lib/ssas/db.sqlite3"
SECRETS_ENV = "/etc/ssas/secrets.env"
SETTINGS_MODULE = "ssas_settings"
GUNICORN_PORT = 8000
PGBOUNCER_PORT = 6432
POSTGRES_PORT = 5432
POSTGRES_VERSION = 15
PG_CONF_DIR = f"/etc/postgresql/{POSTGRES_VERSION}/main"
TLS_DIR = "/etc/ssl/ssas"


def paths_vars() -> dict:
    return {
        "ssas_app_user": APP_USER,
        "ssas_app_dir": APP_DIR,
        "ssas_venv": VENV,
        "ssas_config_dir": CONFIG_DIR,
        "ssas_data_dir": DATA_DIR,
        "ssas_static_root": STATIC_ROOT,
        "ssas_media_root": MEDIA_ROOT,
        "ssas_ml_model_dir": ML_MODEL_DIR,
        "ssas_secrets_env": SECRETS_ENV,
        "ssas_settings_module": SETTINGS_MODULE,
    }
