from django.apps import AppConfig


class Config(AppConfig):
    name = "console.volumes"
    label = "volumes"
