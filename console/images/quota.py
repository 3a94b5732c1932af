"""A registry's pull quota: what it says in its answer to one manifest HEAD (Docker Hub's `ratelimit-*` headers).

The engine's distribution endpoint does not pass a registry's headers on, so the update check asks once per
registry itself: a HEAD on one tag's manifest (which Docker Hub does not count as a pull), with the stored
credentials (Basic, or the token a Bearer challenge names). Whatever goes wrong, the check goes on without it.
"""

from __future__ import annotations

import re
from typing import Any

import requests

from console import engine
from console.images import registries
from console.images.reference import Reference

ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
TIMEOUT = 10
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


def _number(value: str | None) -> tuple[int, int] | None:
    """`76;w=21600` as (76, 21600); the window is 0 when not said."""
    if not value:
        return None
    count, _, rest = value.partition(";")
    window = re.search(r"\bw=(\d+)", rest)
    try:
        return int(count.strip()), int(window.group(1)) if window else 0
    except ValueError:
        return None


def _token(session: requests.Session, challenge: str, scope: str, auth) -> str:
    params = dict(_CHALLENGE.findall(challenge))
    answer = session.get(params.pop("realm"), params={"scope": scope, **params}, auth=auth, timeout=TIMEOUT)
    answer.raise_for_status()
    body = answer.json()
    return body.get("token") or body.get("access_token") or ""


def ask(ref: Reference, auth_config: dict[str, str] | None) -> dict[str, Any]:
    """What the registry says of its quota in answer to a HEAD on ref's manifest: remaining, limit, window
    (seconds) and retry_after (seconds, on a 429), each when it says; {} when it says nothing or fails."""
    url = f"{registries.base_url(ref.domain)}/v2/{ref.path}/manifests/{ref.tag or 'latest'}"
    auth = (auth_config["username"], auth_config["password"]) if auth_config else None
    headers = {"Accept": ACCEPT}
    try:
        with requests.Session() as session:
            answer = session.head(url, headers=headers, auth=auth, timeout=TIMEOUT)
            challenge = answer.headers.get("www-authenticate", "")
            if answer.status_code == 401 and challenge.lower().startswith("bearer "):
                token = _token(session, challenge[7:], f"repository:{ref.path}:pull", auth)
                answer = session.head(url, headers={**headers, "Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    except (requests.RequestException, ValueError, KeyError, engine.EngineError):
        return {}
    said: dict[str, Any] = {}
    remaining = _number(answer.headers.get("ratelimit-remaining"))
    limit = _number(answer.headers.get("ratelimit-limit"))
    if remaining and limit:
        said = {"remaining": remaining[0], "limit": limit[0], "window": limit[1] or remaining[1]}
    if answer.status_code == 429 and answer.headers.get("retry-after", "").isdigit():
        said["retry_after"] = int(answer.headers["retry-after"])
    return said


def described(quota: dict[str, Any]) -> str:
    """ "76 of 100 pulls left (per 6 h)", or "" when the registry did not say."""
    if "remaining" not in quota:
        return ""
    window = quota.get("window") or 0
    per = f"{window // 3600} h" if window and window % 3600 == 0 else f"{window // 60} min" if window else ""
    left = f"{quota['remaining']} of {quota['limit']} pulls left" + (f" (per {per})" if per else "")
    return left + (f"; asked to wait {quota['retry_after']} s" if "retry_after" in quota else "")
