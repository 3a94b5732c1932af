"""What `docker rmi <ref>` would do, said before it is done."""

from __future__ import annotations

from dataclasses import dataclass

from console import engine
from console.images.reference import InvalidReference, parse


@dataclass(frozen=True)
class RemovalPreview:
    reference: str
    image: engine.ImageDetail
    untags: list[str]
    deletes: bool
    needs_force: bool
    blockers: list[engine.ImageUser]
    refused: bool = False  # the engine refuses, forced or not

    @property
    def running(self) -> list[engine.ImageUser]:
        return [c for c in self.blockers if c.state == "running"]


def _is_id(reference: str, image_id: str) -> bool:
    return image_id.removeprefix("sha256:").startswith(reference.removeprefix("sha256:"))


def _repository(ref: str) -> str:
    """httpd:2.4 and httpd@sha256:… are both in repository httpd."""
    name, at, _ = ref.partition("@")
    return name if at else name.rpartition(":")[0]


def preview_removal(reference: str) -> RemovalPreview:
    """Follow the engine's rules: a tag of an image with other tags is only untagged; the last
    reference (or the id) deletes the image; an id with several tags, or an image a container
    uses, needs force. A running container changes that: forced, its image's last tag is only
    untagged (the image stays as <none>), and its image's id is refused."""
    image = engine.image_detail(reference)
    running = any(c.state == "running" for c in image.containers)
    if _is_id(reference, image.id):
        repositories = {_repository(t) for t in image.tags + image.digests}
        needs_force = len(image.tags) > 1 or len(repositories) > 1 or bool(image.containers)
        untags = image.tags + image.digests
        return RemovalPreview(reference, image, untags, not running, needs_force, image.containers, refused=running)
    try:
        name = str(parse(reference, default_tag=True))
    except InvalidReference:
        name = reference
    remaining = [t for t in image.tags if t != name]
    untags = [name]
    repository = _repository(name)
    if not any(_repository(t) == repository for t in remaining):
        # With its last tag in a repository, the engine also drops that repository's digests.
        untags += [d for d in image.digests if _repository(d) == repository]
    if remaining or [d for d in image.digests if d not in untags]:
        return RemovalPreview(reference, image, untags, False, False, [])
    return RemovalPreview(reference, image, untags, not running, bool(image.containers), image.containers)
