from django.apps import AppConfig


class Config(AppConfig):
    name = "console.accounts"
    label = "accounts"
