"""Images: what `docker images`, `pull`, `tag` and `rmi` need."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from console.engine.core import _client, call, errors, parse_time


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


def _image_rows(raw: dict[str, Any]) -> list[ImageRow]:
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


def list_images() -> list[ImageRow]:
    raw = call(lambda c: c.api.images(all=False))
    rows = [row for image in raw for row in _image_rows(image)]
    return sorted(rows, key=lambda r: r.created or datetime.min.replace(tzinfo=UTC), reverse=True)


# --- pull -------------------------------------------------------------------


def pull_stream(repository: str, tag: str, auth_config: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """`docker pull`'s messages as the engine sends them; closing the generator ends the pull.

    The tag is always explicit (a pull without one pulls every tag); a digest goes in its place.
    """
    with errors():
        stream = _client().api.pull(repository, tag=tag, stream=True, decode=True, auth_config=auth_config)
        try:
            yield from stream
        finally:
            stream.close()


def image_id(reference: str) -> str:
    return call(lambda c: c.api.inspect_image(reference)["Id"])


def registry_config() -> dict[str, list[str]]:
    """Where pulls really go: the engine's Docker Hub mirrors and the registries it reaches without TLS."""
    config = call(lambda c: c.info()).get("RegistryConfig") or {}
    insecure = [name for name, index in (config.get("IndexConfigs") or {}).items() if not index.get("Secure", True)]
    return {
        "mirrors": list(config.get("Mirrors") or []),
        "insecure": sorted(insecure) + list(config.get("InsecureRegistryCIDRs") or []),
    }
