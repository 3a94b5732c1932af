"""Containers: what `docker ps`, `run`, `logs` and `rm` need."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.engine.core import call, parse_time


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
        created=parse_time(raw.get("Created")),
        state=raw.get("State", ""),
        status=raw.get("Status", ""),
        ports=format_ports(raw.get("Ports") or []),
        labels=raw.get("Labels") or {},
    )


def list_containers(all: bool = False) -> list[ContainerRow]:
    raw = call(lambda c: c.api.containers(all=all))
    return [_container_row(c) for c in raw]
