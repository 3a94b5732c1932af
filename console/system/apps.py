import contextlib

import redis
from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save


class Config(AppConfig):
    name = "console.system"
    label = "system"

    def ready(self):
        from console.audit.models import AuditEvent

        post_save.connect(_console_acted, sender=AuditEvent, dispatch_uid="snapshot-invalidate")


def _console_acted(sender, instance, created, **kwargs):
    """A console action ended: the snapshot lists afresh before the next page shows it.

    The watcher sees the change in the event stream too, but the page a person lands on right
    after their action must not show the world from before it.
    """
    from console import snapshot
    from console.audit.record import OUTSIDE

    if instance.actor_name == OUTSIDE or instance.outcome in ("requested", "denied"):
        return
    if instance.action.startswith("user."):
        return

    def invalidate():
        with contextlib.suppress(redis.RedisError):  # without Redis nothing reads the snapshot
            snapshot.invalidate("containers", "images", "info")

    # After the commit: never hold the audit chain's lock while talking to Redis.
    transaction.on_commit(invalidate)
