from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "ssas.api"
    label = "api"
