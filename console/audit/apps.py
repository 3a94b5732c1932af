from django.apps import AppConfig


class Config(AppConfig):
    name = "console.audit"
    label = "audit"

    def ready(self):
        from console.audit import signals  # noqa: F401
