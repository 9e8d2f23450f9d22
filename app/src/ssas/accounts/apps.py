from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ssas.accounts"
    label = "accounts"
    verbose_name = "Accounts"
