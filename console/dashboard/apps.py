from django.apps import AppConfig


class Config(AppConfig):
    name = "console.dashboard"
    label = "dashboard"
