from django.apps import AppConfig


class Config(AppConfig):
    name = "console.system"
    label = "system"
