from django.apps import AppConfig
from django.core.signals import request_finished


class EnginesConfig(AppConfig):
    name = "console.engines"
    label = "engines"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from console.engine import release_clients

        # A request's engine clients go back to the process when it ends (under ASGI each request has a thread
        # of its own): the next request reuses them instead of connecting afresh.
        request_finished.connect(release_clients, dispatch_uid="console.engine.release_clients")
