"""The engine package's core: clients, errors and the one way to make a call.

Views, tasks and the watcher call these functions and get plain values back;
`docker.errors.*` become `EngineError`s with a message a person can act on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import docker
import docker.errors
import requests.exceptions
from django.conf import settings


class EngineError(Exception):
    """Something the engine refused or failed at, said for a person."""

    status_code: int | None = None

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class EngineUnreachable(EngineError):
    pass


class NotFound(EngineError):
    pass


class Conflict(EngineError):
    pass


_local = threading.local()


class _APIClient(docker.APIClient):
    """Names and ids go into the engine's URL paths: none may have a part that climbs out of its
    collection (`../volumes/x` as an image reference would delete a volume)."""

    def _url(self, pathfmt, *args, **kwargs):
        for arg in args:
            if isinstance(arg, str) and any(part in ("", ".", "..") for part in arg.split("/")):
                raise docker.errors.NotFound(f"No such object: {arg}")
        return super()._url(pathfmt, *args, **kwargs)


class _DockerClient(docker.DockerClient):
    def __init__(self, **kwargs):
        self.api = _APIClient(**kwargs)


def client() -> docker.DockerClient:
    """The engine's client for this thread (one per thread and address: requests sessions are not thread-safe)."""
    cached = getattr(_local, "client", None)
    if cached is not None and cached[0] == settings.DOCKER_HOST:
        return cached[1]
    client = _DockerClient(
        base_url=settings.DOCKER_HOST,
        timeout=settings.DOCKER_TIMEOUT,
        version="auto",
    )
    _local.client = (settings.DOCKER_HOST, client)
    return client


def reset_client() -> None:
    cached = getattr(_local, "client", None)
    if cached is not None:
        cached[1].close()
    _local.client = None


def _explain(exc: Exception) -> EngineError:
    if isinstance(exc, docker.errors.ImageNotFound):
        return NotFound(_explanation(exc), 404)
    if isinstance(exc, docker.errors.NotFound):
        return NotFound(_explanation(exc), 404)
    if isinstance(exc, docker.errors.APIError):
        status = exc.status_code
        message = _explanation(exc)
        if status == 409:
            return Conflict(message, 409)
        return EngineError(message, status)
    if isinstance(exc, (docker.errors.NullResource, docker.errors.InvalidArgument)):
        # The SDK refused the call before sending it: bad input, not a lost engine.
        return EngineError(f"Not a valid request: {exc}", 400)
    if isinstance(exc, (docker.errors.DockerException, requests.exceptions.RequestException, OSError)):
        reset_client()
        return EngineUnreachable(f"Cannot reach the Docker engine at {settings.DOCKER_HOST}: {_reason(exc)}")
    return EngineError(str(exc))


def _explanation(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc).strip()


def _reason(exc: Exception) -> str:
    text = str(exc)
    # requests wraps the socket error several times; the last part is the useful one.
    for marker in ("FileNotFoundError", "ConnectionRefusedError", "Connection refused", "No such file"):
        if marker in text:
            return "connection refused" if "efused" in marker else "no such socket"
    return text[:300]


def call[T](fn: Callable[[docker.DockerClient], T]) -> T:
    """Run one engine call, turning SDK errors into EngineErrors."""
    try:
        return fn(client())
    except EngineError:
        raise
    except Exception as exc:
        raise _explain(exc) from exc


@contextmanager
def errors() -> Iterator[None]:
    try:
        yield
    except EngineError:
        raise
    except Exception as exc:
        raise _explain(exc) from exc


# --- plain values -----------------------------------------------------------


def parse_time(value: str | int | None) -> datetime | None:
    if value is None or value == "" or str(value).startswith("0001-01-01"):
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    # The engine writes nanoseconds; Python reads microseconds.
    head, _, rest = value.partition(".")
    frac = "".join(ch for ch in rest if ch.isdigit())[:6]
    return datetime.fromisoformat(f"{head}.{frac or '0'}+00:00" if "T" in head else value)
