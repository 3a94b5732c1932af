"""Images: what `docker images`, `pull`, `tag` and `rmi` need."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from console.engine.core import call, client, errors, parse_time


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


def _rows_of(raw: dict[str, Any]) -> list[ImageRow]:
    created = parse_time(raw.get("Created"))
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


def image_rows(raw: list[dict[str, Any]]) -> list[ImageRow]:
    """`docker images`' rows (one per tag), newest first, from the engine's raw listing."""
    rows = [row for image in raw for row in _rows_of(image)]
    return sorted(rows, key=lambda r: r.created or datetime.min.replace(tzinfo=UTC), reverse=True)


def list_images() -> list[ImageRow]:
    return image_rows(call(lambda c: c.api.images(all=False)))


# --- pull -------------------------------------------------------------------


def pull_stream(repository: str, tag: str, auth_config: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """`docker pull`'s messages as the engine sends them; closing the generator ends the pull.

    The tag is always explicit (a pull without one pulls every tag); a digest goes in its place.
    """
    with errors():
        stream = client().api.pull(repository, tag=tag, stream=True, decode=True, auth_config=auth_config)
        try:
            yield from stream
        finally:
            stream.close()


def image_id(reference: str) -> str:
    return call(lambda c: c.api.inspect_image(reference)["Id"])


def registry_config() -> dict[str, list[str]]:
    """Where pulls really go: the engine's Docker Hub mirrors and the registries it reaches without TLS."""
    return registry_config_of(call(lambda c: c.info()))


def registry_config_of(info: dict[str, Any]) -> dict[str, list[str]]:
    """`registry_config()` read from an `info` the engine already gave (the snapshot's)."""
    config = info.get("RegistryConfig") or {}
    insecure = [name for name, index in (config.get("IndexConfigs") or {}).items() if not index.get("Secure", True)]
    return {
        "mirrors": list(config.get("Mirrors") or []),
        "insecure": sorted(insecure) + list(config.get("InsecureRegistryCIDRs") or []),
    }


# --- details, tag, remove, prune ----------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    id: str
    created: datetime | None
    created_by: str
    size: int
    comment: str


@dataclass(frozen=True)
class ImageUser:
    """A container (in any state) made from an image; it keeps the image from being deleted."""

    id: str
    name: str
    state: str

    @property
    def short_id(self) -> str:
        return self.id[:12]


@dataclass(frozen=True)
class ImageDetail:
    id: str
    tags: list[str]
    digests: list[str]
    created: datetime | None
    size: int
    os: str
    architecture: str
    entrypoint: list[str]
    cmd: list[str]
    env: list[str]
    exposed_ports: list[str]
    labels: dict[str, str]
    history: list[HistoryRow]
    containers: list[ImageUser]

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


def containers_using(image_id: str) -> list[ImageUser]:
    raw = call(lambda c: c.api.containers(all=True))
    return [
        ImageUser(c["Id"], ",".join(n.lstrip("/") for n in c.get("Names") or []), c.get("State", ""))
        for c in raw
        if c.get("ImageID") == image_id
    ]


def image_detail(reference: str) -> ImageDetail:
    """`docker image inspect` + `docker history` + the containers made from it."""
    raw = call(lambda c: c.api.inspect_image(reference))
    history = call(lambda c: c.api.history(raw["Id"]))
    config = raw.get("Config") or {}
    return ImageDetail(
        id=raw["Id"],
        tags=list(raw.get("RepoTags") or []),
        digests=list(raw.get("RepoDigests") or []),
        created=parse_time(raw.get("Created")),
        size=raw.get("Size", 0),
        os=raw.get("Os", ""),
        architecture=raw.get("Architecture", "") + (f"/{raw['Variant']}" if raw.get("Variant") else ""),
        entrypoint=list(config.get("Entrypoint") or []),
        cmd=list(config.get("Cmd") or []),
        env=list(config.get("Env") or []),
        exposed_ports=sorted(config.get("ExposedPorts") or {}),
        labels=dict(config.get("Labels") or {}),
        history=[
            HistoryRow(
                h.get("Id", ""),
                parse_time(h.get("Created")),
                h.get("CreatedBy", ""),
                h.get("Size", 0),
                h.get("Comment", ""),
            )
            for h in history
        ],
        containers=containers_using(raw["Id"]),
    )


def tag_image(source: str, repository: str, tag: str) -> None:
    call(lambda c: c.api.tag(source, repository, tag))


def _cli_lines(items: list[dict[str, str]]) -> list[str]:
    return [f"{key}: {value}" for item in items for key, value in item.items()]


@dataclass(frozen=True)
class Removal:
    """The engine's answer to `DELETE /images/{name}`: the names it untagged and the images and layers it deleted."""

    untagged: list[str]
    deleted: list[str]
    lines: list[str]  # as the CLI prints them (Untagged: …, Deleted: sha256:…), in the engine's order


def remove_image(reference: str, force: bool = False) -> Removal:
    """`docker rmi`: what the engine did, from its answer."""
    items = call(lambda c: c.api.remove_image(reference, force=force)) or []
    return Removal(
        untagged=[item["Untagged"] for item in items if "Untagged" in item],
        deleted=[item["Deleted"] for item in items if "Deleted" in item],
        lines=_cli_lines(items),
    )


def prune_images() -> tuple[list[str], int]:
    """`docker image prune` (dangling images only): the CLI's lines and the bytes reclaimed."""
    raw = call(lambda c: c.api.prune_images(filters={"dangling": True}))
    return _cli_lines(raw.get("ImagesDeleted") or []), raw.get("SpaceReclaimed", 0)
