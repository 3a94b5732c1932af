import hashlib
import json

from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One thing someone did, asked for, or was refused; rows are never changed."""

    class Outcome(models.TextChoices):
        REQUESTED = "requested"
        JOINED = "joined"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        DENIED = "denied"
        CANCELLED = "cancelled"

    created = models.DateTimeField(db_index=True, editable=False)
    engine = models.CharField(max_length=100, blank=True, editable=False)
    # Plain ids and a text copy: deleting a user must not rewrite history.
    actor_id = models.IntegerField(null=True, editable=False, db_index=True)
    actor_name = models.CharField(max_length=150, editable=False, db_index=True)
    source_ip = models.CharField(max_length=45, blank=True, editable=False)
    user_agent = models.CharField(max_length=300, blank=True, editable=False)
    request_id = models.CharField(max_length=64, blank=True, editable=False)
    action = models.CharField(max_length=64, db_index=True, editable=False)
    target = models.CharField(max_length=500, blank=True, editable=False)
    target_id = models.CharField(max_length=200, blank=True, editable=False)
    params = models.JSONField(default=dict, editable=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True, editable=False)
    error = models.TextField(blank=True, editable=False)
    job_id = models.BigIntegerField(null=True, editable=False, db_index=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.target} {self.outcome}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, force_insert=True, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def canonical(self) -> bytes:
        content = {
            "id": self.pk,
            "created": self.created.isoformat(timespec="microseconds"),
            "engine": self.engine,
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "source_ip": self.source_ip,
            "user_agent": self.user_agent,
            "request_id": self.request_id,
            "action": self.action,
            "target": self.target,
            "target_id": self.target_id,
            "params": self.params,
            "outcome": self.outcome,
            "error": self.error,
            "job_id": self.job_id,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


class ChainHead(models.Model):
    """A single row locked by every writer, so concurrent writers never fork the chain."""

    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain head at event {self.last_id}"
