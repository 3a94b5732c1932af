"""The only code that talks to the Docker Engine.

Views, tasks and the watcher call these functions and get plain values back;
`docker.errors.*` become `EngineError`s with a message a person can act on.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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


def engine_name() -> str:
    return settings.ENGINE_NAME


def engine_address() -> str:
    return settings.DOCKER_HOST


_local = threading.local()


def _client() -> docker.DockerClient:
    # One client per thread and address: requests sessions are not thread-safe.
    cached = getattr(_local, "client", None)
    if cached is not None and cached[0] == settings.DOCKER_HOST:
        return cached[1]
    client = docker.DockerClient(
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
        return fn(_client())
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


def _parse_time(value: str | int | None) -> datetime | None:
    if value is None or value == "" or str(value).startswith("0001-01-01"):
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    # The engine writes nanoseconds; Python reads microseconds.
    head, _, rest = value.partition(".")
    frac = "".join(ch for ch in rest if ch.isdigit())[:6]
    return datetime.fromisoformat(f"{head}.{frac or '0'}+00:00" if "T" in head else value)


@dataclass(frozen=True)
class ImageRow:
    id: str
    repository: str
    tag: str
    created: datetime | None
    size: int

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    @property
    def reference(self) -> str:
        if self.repository == "<none>":
            return self.short_id
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class ContainerRow:
    id: str
    names: str
    image: str
    command: str
    created: datetime | None
    state: str
    status: str
    ports: str
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return self.id[:12]


def _image_rows(raw: dict[str, Any]) -> list[ImageRow]:
    created = _parse_time(raw.get("Created"))
    tags = raw.get("RepoTags") or []
    tags = [t for t in tags if t != "<none>:<none>"]
    if not tags:
        repo = "<none>"
        digests = [d for d in raw.get("RepoDigests") or [] if d != "<none>@<none>"]
        if digests:
            repo = digests[0].split("@")[0]
        return [ImageRow(raw["Id"], repo, "<none>", created, raw.get("Size", 0))]
    rows = []
    for ref in tags:
        repo, _, tag = ref.rpartition(":")
        rows.append(ImageRow(raw["Id"], repo, tag, created, raw.get("Size", 0)))
    return rows


def format_ports(ports: list[dict[str, Any]]) -> str:
    """Ports as `docker ps` shows them: 127.0.0.1:8080->80/tcp, 443/tcp."""
    parts = []
    for p in sorted(ports, key=lambda p: (p.get("PrivatePort", 0), p.get("IP", ""))):
        inner = f"{p.get('PrivatePort')}/{p.get('Type', 'tcp')}"
        if p.get("PublicPort"):
            ip = p.get("IP") or "0.0.0.0"
            host = f"[{ip}]" if ":" in ip else ip
            parts.append(f"{host}:{p['PublicPort']}->{inner}")
        else:
            parts.append(inner)
    return ", ".join(dict.fromkeys(parts))


def _container_row(raw: dict[str, Any]) -> ContainerRow:
    command = raw.get("Command") or ""
    return ContainerRow(
        id=raw["Id"],
        names=",".join(n.lstrip("/") for n in raw.get("Names") or []),
        image=raw.get("Image", ""),
        command=command,
        created=_parse_time(raw.get("Created")),
        state=raw.get("State", ""),
        status=raw.get("Status", ""),
        ports=format_ports(raw.get("Ports") or []),
        labels=raw.get("Labels") or {},
    )


def list_images() -> list[ImageRow]:
    raw = call(lambda c: c.api.images(all=False))
    rows = [row for image in raw for row in _image_rows(image)]
    return sorted(rows, key=lambda r: r.created or datetime.min.replace(tzinfo=UTC), reverse=True)


def list_containers(all: bool = False) -> list[ContainerRow]:
    raw = call(lambda c: c.api.containers(all=all))
    return [_container_row(c) for c in raw]


def ping() -> float:
    """Seconds the engine took to answer /_ping."""
    started = time.monotonic()
    call(lambda c: c.ping())
    return time.monotonic() - started


def info() -> dict[str, Any]:
    return call(lambda c: c.info())


def version() -> dict[str, Any]:
    return call(lambda c: c.version())


def api_version() -> str:
    return call(lambda c: c.api.api_version)


def disk_usage() -> dict[str, Any]:
    """`docker system df`: slow on busy hosts, so only jobs call it."""
    raw = call(lambda c: c.df())
    images = raw.get("Images") or []
    containers = raw.get("Containers") or []
    volumes = raw.get("Volumes") or []
    cache = raw.get("BuildCache") or []
    image_size = sum(i.get("Size", 0) for i in images)
    image_shared = sum(max(i.get("SharedSize", 0), 0) for i in images)
    unused_images = sum(i.get("Size", 0) - max(i.get("SharedSize", 0), 0) for i in images if not i.get("Containers"))
    container_size = sum(c.get("SizeRw", 0) or 0 for c in containers)
    container_reclaim = sum(c.get("SizeRw", 0) or 0 for c in containers if c.get("State") != "running")
    volume_size = sum((v.get("UsageData") or {}).get("Size", 0) or 0 for v in volumes)
    volume_reclaim = sum(
        (v.get("UsageData") or {}).get("Size", 0) or 0
        for v in volumes
        if not (v.get("UsageData") or {}).get("RefCount")
    )
    cache_size = sum(b.get("Size", 0) for b in cache)
    cache_reclaim = sum(b.get("Size", 0) for b in cache if not b.get("InUse"))
    return {
        "layers_size": raw.get("LayersSize", 0),
        "rows": [
            {
                "type": "Images",
                "total": len(images),
                "active": sum(1 for i in images if i.get("Containers")),
                "size": raw.get("LayersSize", image_size),
                "reclaimable": max(unused_images, 0),
                "shared": image_shared,
            },
            {
                "type": "Containers",
                "total": len(containers),
                "active": sum(1 for c in containers if c.get("State") == "running"),
                "size": container_size,
                "reclaimable": container_reclaim,
            },
            {
                "type": "Local Volumes",
                "total": len(volumes),
                "active": sum(1 for v in volumes if (v.get("UsageData") or {}).get("RefCount")),
                "size": volume_size,
                "reclaimable": volume_reclaim,
            },
            {
                "type": "Build Cache",
                "total": len(cache),
                "active": sum(1 for b in cache if b.get("InUse")),
                "size": cache_size,
                "reclaimable": cache_reclaim,
            },
        ],
    }


@dataclass(frozen=True)
class Summary:
    """What the dashboard shows at a glance."""

    version: str
    api_version: str
    containers: int
    running: int
    paused: int
    stopped: int
    images: int


def summary() -> Summary:
    data = info()
    return Summary(
        version=data.get("ServerVersion", "?"),
        api_version=api_version(),
        containers=data.get("Containers", 0),
        running=data.get("ContainersRunning", 0),
        paused=data.get("ContainersPaused", 0),
        stopped=data.get("ContainersStopped", 0),
        images=data.get("Images", 0),
    )


@functools.cache
def sdk_version() -> str:
    return docker.__version__
