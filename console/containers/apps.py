from django.apps import AppConfig


class Config(AppConfig):
    name = "console.containers"
    label = "containers"
