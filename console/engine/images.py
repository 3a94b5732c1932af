"""Images: what `docker images`, `pull`, `tag` and `rmi` need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from console.engine.core import call, parse_time


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
