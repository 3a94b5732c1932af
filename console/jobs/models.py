from django.conf import settings
from django.db import models
from django.utils import timezone

from console.jobs import kinds


class Job(models.Model):
    """The truth about one queued operation; Celery only carries its id to a worker."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    TERMINAL = (State.SUCCEEDED, State.FAILED, State.CANCELLED)

    kind = models.CharField(max_length=40, db_index=True)
    engine = models.CharField(max_length=100, db_index=True)
    target = models.CharField(max_length=500, blank=True)
    params = models.JSONField(default=dict)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_by_name = models.CharField(max_length=150)
    joined_by = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    progress = models.JSONField(default=dict, blank=True)
    output = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    # What someone asked of the running job that has not happened yet ("Stopping web…"), shown until it ends.
    pending = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    # Bumped on every write, so a poll can answer "nothing changed" from one indexed column.
    revision = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    queue = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["engine", "kind", "target", "state"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target}".strip()

    def get_kind_display(self) -> str:
        return self.kind.replace(".", " ").replace("_", " ")

    @property
    def progress_template(self) -> str:
        """The live part of the job page its kind brings ("" for none)."""
        kind = kinds.get(self.kind)
        return kind.progress if kind else ""

    @property
    def row_template(self) -> str:
        """Its progress cell in the jobs list."""
        kind = kinds.get(self.kind)
        return kind.row if kind else kinds.DEFAULT_ROW

    @property
    def poll_every(self) -> str:
        """How often its page asks for news (htmx's `every`): often while it is young, as most jobs end within
        seconds and a person waits on them, then less and less often."""
        age = (timezone.now() - self.created).total_seconds()
        return "100ms" if age < 5 else "250ms" if age < 30 else "1s"

    @property
    def is_finished(self) -> bool:
        return self.state in self.TERMINAL

    @property
    def duration(self):
        if self.started is None:
            return None
        from django.utils import timezone

        return (self.finished or timezone.now()) - self.started
