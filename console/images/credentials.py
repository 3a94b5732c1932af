"""Registry credentials: encrypted at rest with a key derived from SECRET_KEY, decrypted only for a pull."""

from __future__ import annotations

from console import crypto
from console.images.models import RegistryCredential

PURPOSE = "registry credentials"


def store(host: str, username: str, secret: str, who_name: str) -> bool:
    """Save (or replace) the credentials for host; True when they are new."""
    _, created = RegistryCredential.objects.update_or_create(
        host=host,
        defaults={
            "username": username,
            "secret": crypto.encrypt(secret, PURPOSE),
            "updated_by_name": who_name,
        },
    )
    return created


def auth_config(host: str) -> dict[str, str] | None:
    """What the engine's pull needs for host, or None when none are stored (or SECRET_KEY changed)."""
    credential = RegistryCredential.objects.filter(host=host).first()
    if credential is None:
        return None
    secret = crypto.decrypt(credential.secret, PURPOSE)
    if secret is None:
        return None
    return {"username": credential.username, "password": secret, "serveraddress": host}
