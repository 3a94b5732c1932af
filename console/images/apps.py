from django.apps import AppConfig


class Config(AppConfig):
    name = "console.images"
    label = "images"
