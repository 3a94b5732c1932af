"""Volumes: what `docker volume ls / inspect / create / rm / prune` need.

Create sends the very body the console built (and the policy read), nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import docker.utils

from console.engine.core import call, parse_time


@dataclass(frozen=True)
class VolumeRow:
    name: str
    driver: str
    mountpoint: str
    created: datetime | None
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    containers: list[str] = field(default_factory=list)  # names of the containers that mount it

    @property
    def anonymous(self) -> bool:
        return "com.docker.volume.anonymous" in self.labels


def volume_row(raw: dict[str, Any], containers: list[str]) -> VolumeRow:
    return VolumeRow(
        name=raw.get("Name", ""),
        driver=raw.get("Driver", ""),
        mountpoint=raw.get("Mountpoint", ""),
        created=parse_time(raw.get("CreatedAt")),
        labels=raw.get("Labels") or {},
        options=raw.get("Options") or {},
        containers=containers,
    )


def volume_users(containers: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Volume name: the containers (running or not) that mount it, from the containers' listing."""
    users: dict[str, list[str]] = {}
    for container in containers:
        name = (container.get("Names") or ["/?"])[0].lstrip("/")
        for mount in container.get("Mounts") or []:
            if mount.get("Type") == "volume" and mount.get("Name"):
                users.setdefault(mount["Name"], []).append(name)
    return users


def volume_rows(raw: dict[str, Any], containers: list[dict[str, Any]]) -> list[VolumeRow]:
    """`docker volume ls`' rows, by name, with the containers using each."""
    users = volume_users(containers)
    rows = [volume_row(v, sorted(users.get(v.get("Name", ""), []))) for v in raw.get("Volumes") or []]
    return sorted(rows, key=lambda r: r.name)


def inspect_volume(name: str) -> dict[str, Any]:
    return call(lambda c: c.api.inspect_volume(name))


def volume_body(spec: dict[str, Any]) -> dict[str, Any]:
    """The engine's create request (`POST /volumes/create`), from the known keys of a checked spec."""
    return {
        "Name": spec.get("name") or "",
        "Driver": spec.get("driver") or "local",
        "DriverOpts": dict(spec.get("options") or {}),
        "Labels": dict(spec.get("labels") or {}),
    }


def create_volume(body: dict[str, Any]) -> str:
    """Send this create request as it is; the volume's name."""

    def create(c):
        api = c.api
        return api._result(api._post_json(api._url("/volumes/create"), data=body), json=True)

    return call(create)["Name"]


def remove_volume(name: str) -> None:
    call(lambda c: c.api.remove_volume(name))


def prunes_every_volume() -> bool:
    """Engines before API 1.42 prune every unused volume, named or anonymous (and know no `all` filter)."""
    return call(lambda c: docker.utils.version_lt(c.api.api_version, "1.42"))


def prune_volumes(all: bool) -> tuple[list[str], int]:
    """`docker volume prune [-a]`: the volumes removed and the space reclaimed. Without `all` the engine
    removes unused anonymous volumes only (see prunes_every_volume)."""
    every = all and not prunes_every_volume()
    answer = call(lambda c: c.api.prune_volumes(filters={"all": ["true"]} if every else None))
    return answer.get("VolumesDeleted") or [], answer.get("SpaceReclaimed") or 0
