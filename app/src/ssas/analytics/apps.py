from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "ssas.analytics"
    label = "analytics"
