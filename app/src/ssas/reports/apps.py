from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "ssas.reports"
    label = "reports"
