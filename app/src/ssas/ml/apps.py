from django.apps import AppConfig


class MlConfig(AppConfig):
    name = "ssas.ml"
    label = "ml"
    verbose_name = "Machine learning"
