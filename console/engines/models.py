"""The engines this console manages, and each user's role on each of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from console import crypto
from console.engine.connections import Connection

KEY_PURPOSE = "engine keys"


class EngineManager(models.Manager):
    def ensure_environment(self) -> Engine:
        """The engine DOCKER_HOST names (ENGINE_NAME): it always exists, so a single-engine setup needs nothing."""
        row, _ = self.get_or_create(
            name=settings.ENGINE_NAME,
            defaults={"from_environment": True, "description": "The engine DOCKER_HOST names"},
        )
        return row


class Engine(models.Model):
    """A named connection to one Docker engine: unix://, tcp:// with TLS client certificates, or ssh://.

    The engine named by ENGINE_NAME is made from the environment (`from_environment`): its address is
    DOCKER_HOST as the process sees it, so a single-engine setup keeps working unchanged.
    """

    name = models.SlugField(max_length=40, unique=True)
    description = models.CharField(max_length=200, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)
    from_environment = models.BooleanField(default=False)
    # Plain tcp:// without TLS, accepted by an Admin who said so; every page of the engine says it.
    insecure = models.BooleanField(default=False)
    tls_ca = models.TextField(blank=True)  # PEM, public
    tls_cert = models.TextField(blank=True)  # PEM, public
    tls_key = models.TextField(blank=True)  # encrypted
    ssh_key = models.TextField(blank=True)  # encrypted
    ssh_host_key = models.CharField(max_length=2000, blank=True)  # pinned at first contact: "<type> <base64>"
    revision = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    updated_by_name = models.CharField(max_length=150, blank=True)

    objects = EngineManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return settings.DOCKER_HOST if self.from_environment else self.url

    @property
    def kind(self) -> str:
        scheme = self.address.partition("://")[0]
        if scheme == "tcp":
            return "tcp+tls" if self.tls_cert or self.tls_ca else "tcp"
        return scheme

    def set_secret(self, field: str, text: str) -> None:
        setattr(self, field, crypto.encrypt(text, KEY_PURPOSE))

    def connection(self) -> Connection:
        """How to reach it, private keys decrypted (None when SECRET_KEY changed since they were saved)."""
        return Connection(
            name=self.name,
            url=self.address,
            insecure=self.insecure,
            tls_ca=self.tls_ca,
            tls_cert=self.tls_cert,
            tls_key=crypto.decrypt(self.tls_key, KEY_PURPOSE),
            ssh_key=crypto.decrypt(self.ssh_key, KEY_PURPOSE),
            ssh_host_key=self.ssh_host_key,
            revision=self.revision,
            from_environment=self.from_environment,
        )


class EngineRole(models.Model):
    """A user's role on one engine, overriding their global role there; "" is no role (the engine is hidden)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="engine_roles")
    engine = models.ForeignKey(Engine, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "engine"], name="one_role_per_user_and_engine")]

    def __str__(self) -> str:
        return f"{self.user} on {self.engine}: {self.role or 'no role'}"
