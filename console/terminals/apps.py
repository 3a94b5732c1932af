from django.apps import AppConfig


class Config(AppConfig):
    name = "console.terminals"
    label = "terminals"
