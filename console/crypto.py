"""Secrets kept in the database (registry passwords, TLS and SSH private keys): encrypted at rest with a
key derived from SECRET_KEY and the purpose, decrypted only where a connection or a pull needs them."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _fernet(purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"console {purpose}".encode()).derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(text: str, purpose: str) -> str:
    return _fernet(purpose).encrypt(text.encode()).decode() if text else ""


def decrypt(token: str, purpose: str) -> str | None:
    """The text, "" for none, or None when it cannot be read (SECRET_KEY changed)."""
    if not token:
        return ""
    try:
        return _fernet(purpose).decrypt(token.encode()).decode()
    except InvalidToken:
        return None
