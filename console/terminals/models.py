from django.db import models


class Recording(models.Model):
    """One terminal session as asciicast v2 (output with its timing, input, resizes). Its SHA-256 is in the session's
    terminal.close audit event, so `audit verify` finds an edited recording."""

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    engine = models.CharField(max_length=100)
    container = models.CharField(max_length=500)
    container_id = models.CharField(max_length=200)
    actor_name = models.CharField(max_length=150)
    cast = models.TextField()
    sha256 = models.CharField(max_length=64)
    truncated = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"terminal recording {self.pk} of {self.actor_name} in {self.container} on {self.engine}"
