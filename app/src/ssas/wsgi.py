"""WSGI entry point: gunicorn ssas.wsgi:application."""

from django.core.wsgi import get_wsgi_application

from ssas._env import require_settings_module

require_settings_module()
application = get_wsgi_application()
