"""The engine package's core: clients, errors and the one way to make a call.

Views, tasks and the watcher call these functions and get plain values back;
`docker.errors.*` become `EngineError`s with a message a person can act on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime

import docker
import docker.errors
import requests.exceptions
from django.conf import settings

from console.engine.connections import Connection, ConnectionRefused, describe, open_client


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
_current: ContextVar[str | None] = ContextVar("console_engine", default=None)
ROW_CACHE_SECONDS = 2.0  # how long a process trusts an engine's row before reading it again
# Engines' rows as a process last read them (name -> (when, Connection)), shared by its threads: under ASGI each
# request runs on a thread of its own, and a cache per thread read the row again on every request.
_rows: dict[str, tuple[float, Connection]] = {}
# Clients a finished request handed back (Connection -> clients), for the next request's thread: a client per
# request asked the engine its API version again, and opened a new SSH connection for an ssh:// engine.
_idle: dict[Connection, list[docker.DockerClient]] = {}
_idle_lock = threading.Lock()
IDLE_CLIENTS = 8  # kept per engine and process; more are closed


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


# --- which engine -------------------------------------------------------------------------------


def current() -> str:
    """The engine this request, job or watcher works on (the default engine outside any `using`)."""
    return _current.get() or settings.ENGINE_NAME


def scoped() -> str | None:
    """The engine named by `using` around this code, or None outside any (pages that span engines)."""
    return _current.get()


def enter(name: str | None) -> None:
    """Work on `name` from here on in this context (a request's middleware; None: no engine yet)."""
    _current.set(name)


@contextmanager
def using(name: str) -> Iterator[str]:
    """Work on the engine `name` inside the block (views of /engines/<name>/…, a job, a watcher)."""
    token = _current.set(name)
    try:
        yield name
    finally:
        _current.reset(token)


def connection(name: str | None = None) -> Connection:
    """How to reach an engine, from its row (re-read every few seconds, so an edit reaches every process)."""
    name = name or current()
    cached = _rows.get(name)
    if cached is not None and time.monotonic() - cached[0] < ROW_CACHE_SECONDS:
        conn = cached[1]
        # The environment's engine is wherever DOCKER_HOST points now.
        return replace(conn, url=settings.DOCKER_HOST) if conn.from_environment else conn
    from console.engines.models import Engine  # the engine package stays importable without the ORM set up

    row = Engine.objects.filter(name=name).first()
    if row is None:
        if name != settings.ENGINE_NAME:
            raise NotFound(f"No engine is named {name!r}.", 404)
        conn = Connection(name=name, url=settings.DOCKER_HOST, from_environment=True)
    else:
        conn = row.connection()
    _rows[name] = (time.monotonic(), conn)
    return conn


def address(name: str | None = None) -> str:
    """The engine's address as people read it (unix:///…, tcp://…, ssh://…)."""
    return connection(name).url


def client(name: str | None = None) -> docker.DockerClient:
    """The engine's client for this thread (one per thread and engine: requests sessions are not
    thread-safe), rebuilt when the engine's row or address changes."""
    conn = connection(name)
    clients = getattr(_local, "clients", None)
    if clients is None:
        clients = _local.clients = {}
    cached = clients.get(conn.name)
    if cached is not None and cached[0] == conn:
        return cached[1]
    if cached is not None:
        cached[1].close()
    with _idle_lock:
        made = (_idle.get(conn) or [None]).pop()
    if made is not None:
        clients[conn.name] = (conn, made)
        return made
    try:
        made = open_client(conn, _DockerClient, settings.DOCKER_TIMEOUT)
    except ConnectionRefused as exc:
        raise EngineUnreachable(f"Cannot reach the Docker engine {conn.name} at {conn.url}: {exc}") from exc
    clients[conn.name] = (conn, made)
    return made


def release_clients(**_signal) -> None:
    """This thread's clients go back to the process for the next request's thread (at the end of a request)."""
    mine, _local.clients = getattr(_local, "clients", {}), {}
    for conn, made in mine.values():
        with _idle_lock:
            kept = _idle.setdefault(conn, [])
            if len(kept) < IDLE_CLIENTS:
                kept.append(made)
                continue
        made.close()


def forget_clients() -> None:
    """Close and forget every client and row this process holds (a test's engines are made afresh)."""
    with _idle_lock:
        idle = [made for kept in _idle.values() for made in kept]
        _idle.clear()
    for made in [*idle, *(conn_client[1] for conn_client in getattr(_local, "clients", {}).values())]:
        made.close()
    _local.clients = {}
    _rows.clear()


def reset_client(name: str | None = None) -> None:
    """Forget this thread's client (and row) of an engine: the next call connects afresh."""
    name = name or current()
    cached = getattr(_local, "clients", {}).pop(name, None)
    _rows.pop(name, None)
    with _idle_lock:
        stale = [made for conn in [c for c in _idle if c.name == name] for made in _idle.pop(conn)]
    for made in stale:
        made.close()
    if cached is not None:
        cached[1].close()


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
        where = _current.get() or settings.ENGINE_NAME
        reset_client(where)
        reason = _reason(exc)
        if reason not in ("connection refused", "no such socket"):
            reason = describe(exc) or reason  # TLS, SSH: say which identity was refused
        return EngineUnreachable(f"Cannot reach the Docker engine {where} at {_safe_address(where)}: {reason}")
    return EngineError(str(exc))


def _safe_address(name: str) -> str:
    try:
        return address(name)
    except Exception:  # an error message must not fail for want of the address
        return "its address"


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


def close_stream(stream) -> None:
    """End a streamed answer (events, attach, exec) from any thread, on every transport. docker-py's
    CancellableStream refuses to close over SSH; there the paramiko channel under it is closed instead,
    which wakes its reader."""
    try:
        stream.close()
    except docker.errors.DockerException:
        channel = getattr(stream._response.raw._fp.fp, "channel", None)
        if channel is None:
            raise
        with suppress(EOFError, OSError):  # its transport already gone: the channel is marked closed all the same
            channel.close()
        stream._response.close()


# --- plain values -----------------------------------------------------------


def parse_time(value: str | int | None) -> datetime | None:
    if value is None or value == "" or str(value).startswith("0001-01-01"):
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    # The engine writes nanoseconds; Python reads microseconds.
    head, _, rest = value.partition(".")
    head = head.removesuffix("Z")  # a volume's CreatedAt has no fraction: 2026-01-01T10:00:00Z
    frac = "".join(ch for ch in rest if ch.isdigit())[:6]
    return datetime.fromisoformat(f"{head}.{frac or '0'}+00:00" if "T" in head else value)
