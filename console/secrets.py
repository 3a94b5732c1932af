"""The one secret detector: container environments on pages, job rows and the audit trail ask it.

A value is secret when its name says so (DB_PASS, apiKey, X-Auth-Token, PASSPHRASE) or when the value
itself is a credential whatever its name: a URL with user:password@, a PEM private key, or a token with a
well-known issuer prefix. Names are read word by word, so AUTHOR, MONKEY or BYPASS_CACHE are not secrets.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

# Words that make a name secret on their own: DB_PASS, AUTH, SSH_KEY, SECRET.
_SECRET_WORDS = {
    "auth",
    "authorization",
    "cred",
    "creds",
    "credential",
    "credentials",
    "key",
    "keys",
    "pass",
    "passwd",
    "password",
    "passwords",
    "passphrase",
    "pw",
    "pwd",
    "secret",
    "secrets",
    "token",
    "tokens",
}
# Run together with other words they still say "secret": DBPASSWORD, APIKEY, client_secret (and ACCESSTOKEN).
_SECRET_PARTS = re.compile(r"passw|passphrase|secret|credential|apikey|privatekey|accesskey", re.I)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# NAME= in NAME=value, --password=…, ?token=…; a NAME starts after a separator (linear on long text, not quadratic)
_ASSIGNMENT = re.compile(r"(?<![^\s,;&?=])([^\s,;&?=]*)=")

_URL_PASSWORD = re.compile(r"(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://[^\s/:@]*:)([^\s/@]+)(@)", re.I)
_PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----.*?(?:-----END \1-----|\Z)", re.S)
_TOKEN = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|sk_live_[A-Za-z0-9]{20,}"
    r"|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+)"
)


def looks_secret(name: str) -> bool:
    """Whether a variable, option or field of this name holds a secret."""
    if _SECRET_PARTS.search(name):
        return True
    words = [word.lower() for word in _WORDS.findall(name)]
    return any(word in _SECRET_WORDS or word.endswith(("token", "tokens")) for word in words)


def _secret_assignment(text: str) -> int:
    """Where the value of the first NAME=value inside text with a secret NAME starts, or -1."""
    for match in _ASSIGNMENT.finditer(text):
        if looks_secret(match.group(1)):
            return match.end()
    return -1


def value_looks_secret(value: str) -> bool:
    """Whether the text carries a credential whatever it is called (including --password=… inside it)."""
    if _secret_assignment(value) >= 0:
        return True
    return bool(_URL_PASSWORD.search(value) or _PRIVATE_KEY.search(value) or _TOKEN.search(value))


def detect(key: str, value: Any = "") -> bool:
    """Whether `value`, found under `key`, is a secret."""
    return looks_secret(key) or (isinstance(value, str) and value_looks_secret(value))


def mask_text(text: str) -> str:
    """The text with the credentials in it masked, and everything else kept."""
    text = _URL_PASSWORD.sub(rf"\1{MASK}\3", text)
    text = _PRIVATE_KEY.sub(rf"-----BEGIN \1----- {MASK}", text)
    return _TOKEN.sub(MASK, text)


def mask(value: Any, name: str = "") -> Any:
    """A copy of value (dicts, lists and NAME=value strings at any depth) with what is secret masked;
    in text, everything after a secret NAME= is masked."""
    if looks_secret(name):
        return MASK
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    if isinstance(value, str):
        text = mask_text(value)
        start = _secret_assignment(text)
        return text if start < 0 else text[:start] + MASK
    return value


def visible_env(env: list[tuple[str, str]], admin: bool) -> list[tuple[str, str, bool]]:
    """(name, value, masked) rows of an environment; a masked value never leaves the server."""
    if admin:
        return [(name, value, False) for name, value in env]
    return [(name, mask(value, name), True) if detect(name, value) else (name, value, False) for name, value in env]
