"""Registry credentials: encrypted at rest with a key derived from SECRET_KEY, decrypted only for a pull."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from console.images.models import RegistryCredential


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"console registry credentials").derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def store(host: str, username: str, secret: str, who_name: str) -> bool:
    """Save (or replace) the credentials for host; True when they are new."""
    _, created = RegistryCredential.objects.update_or_create(
        host=host,
        defaults={
            "username": username,
            "secret": _fernet().encrypt(secret.encode()).decode(),
            "updated_by_name": who_name,
        },
    )
    return created


def auth_config(host: str) -> dict[str, str] | None:
    """What the engine's pull needs for host, or None when none are stored (or SECRET_KEY changed)."""
    credential = RegistryCredential.objects.filter(host=host).first()
    if credential is None:
        return None
    try:
        secret = _fernet().decrypt(credential.secret.encode()).decode()
    except InvalidToken:
        return None
    return {"username": credential.username, "password": secret, "serveraddress": host}
