from django.apps import AppConfig


class Config(AppConfig):
    name = "console.networks"
    label = "networks"
