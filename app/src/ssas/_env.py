"""Resolve DJANGO_SETTINGS_MODULE for the production entry points."""

import os


def require_settings_module() -> None:
    # Falling back to dev settings in production would silently run on SQLite.
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        raise RuntimeError(
            "DJANGO_SETTINGS_MODULE is not set; point it at the rendered production "
            "settings module (or ssas.settings.dev for local work)."
        )
