"""Celery entry point: celery -A ssas.celery_app:app worker -Q ml_heavy,..."""

from celery import Celery

from ssas._env import require_settings_module

require_settings_module()

app = Celery("ssas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
