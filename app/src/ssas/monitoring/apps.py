from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "ssas.monitoring"
    label = "monitoring"
