from django.apps import AppConfig


class Config(AppConfig):
    name = "console.jobs"
    label = "jobs"
