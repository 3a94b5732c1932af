"""Environment variables whose names look secret are shown to Admins only."""

import re

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|KEY", re.IGNORECASE)
MASK = "••••••••"


def looks_secret(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def visible_env(env: list[tuple[str, str]], admin: bool) -> list[tuple[str, str, bool]]:
    """(name, value, masked) rows; a masked value never leaves the server."""
    return [(name, MASK, True) if looks_secret(name) and not admin else (name, value, False) for name, value in env]


def masked_lines(lines: list[str]) -> list[str]:
    """KEY=VALUE lines with secret-looking values masked, for the audit trail and the job row."""
    masked = []
    for line in lines:
        name, _, _ = line.partition("=")
        masked.append(f"{name}={MASK}" if looks_secret(name) else line)
    return masked
