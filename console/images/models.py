from django.db import models


class RegistryCredential(models.Model):
    """A username and password/token for one registry host; the secret is kept encrypted."""

    host = models.CharField(max_length=255, unique=True)
    username = models.CharField(max_length=255)
    secret = models.TextField(editable=False)  # Fernet token, see console.images.credentials
    updated = models.DateTimeField(auto_now=True)
    updated_by_name = models.CharField(max_length=150)

    class Meta:
        ordering = ["host"]

    def __str__(self) -> str:
        return f"{self.username} @ {self.host}"


class PullLock(models.Model):
    """One row per engine, locked while a pull request looks for a running pull to join."""

    engine = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return f"pull lock for {self.engine}"
