"""Image references, parsed and normalized as Docker does (github.com/distribution/reference).

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] path-component ["/" path-component]*
    domain           := host [":" port]
    path-component   := [a-z0-9]+ ( ( [_.] | __ | [-]+ ) [a-z0-9]+ )*
    tag              := [\\w][\\w.-]{0,127}
    digest           := algorithm ":" hex      (sha256: 64 lowercase hex digits)

`httpd` means `docker.io/library/httpd:latest`; pages show the short ("familiar") form, `httpd:latest`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_DOMAIN = "docker.io"
DEFAULT_TAG = "latest"
NAME_MAX = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])"
DOMAIN = re.compile(rf"{_HOST}(?::[0-9]+)?")
PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*")
TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
DIGEST_HEX = {"sha256": 64, "sha384": 96, "sha512": 128}
_HEX = re.compile(r"[a-f0-9]+")
_ID_LIKE = re.compile(r"[a-f0-9]{64}")


class InvalidReference(ValueError):
    """A reference Docker would refuse; the message says why, for a person."""


@dataclass(frozen=True)
class Reference:
    domain: str
    path: str
    tag: str = ""
    digest: str = ""
    default_tag: bool = False

    @property
    def name(self) -> str:
        """The short repository name, as `docker images` shows it: httpd, team/app, host:5000/app."""
        if self.domain == DEFAULT_DOMAIN:
            return self.path.removeprefix("library/")
        return f"{self.domain}/{self.path}"

    @property
    def full_name(self) -> str:
        return f"{self.domain}/{self.path}"

    @property
    def canonical(self) -> str:
        """The full form the CLI prints after a pull: docker.io/library/httpd:2.4."""
        return f"{self.full_name}{':' + self.tag if self.tag else ''}{'@' + self.digest if self.digest else ''}"

    @property
    def pull_tag(self) -> str:
        """What the engine's pull takes as its tag: the digest when there is one (it wins, as in the CLI)."""
        return self.digest or self.tag

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _split_domain(name: str) -> tuple[str, str]:
    # The first part is a registry only when it looks like one, as in the Docker CLI.
    first, slash, rest = name.partition("/")
    if not slash or ("." not in first and ":" not in first and first != "localhost" and first.lower() == first):
        domain, rest = DEFAULT_DOMAIN, name
    else:
        domain = first
    if domain == "index.docker.io":
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in rest:
        rest = f"library/{rest}"
    return domain, rest


def _check_digest(digest: str, text: str) -> None:
    algorithm, colon, hexpart = digest.partition(":")
    if not colon or algorithm not in DIGEST_HEX:
        raise InvalidReference(f"“{text}”: the digest must be sha256: followed by 64 hexadecimal digits.")
    if len(hexpart) != DIGEST_HEX[algorithm] or not _HEX.fullmatch(hexpart):
        raise InvalidReference(
            f"“{text}”: a {algorithm} digest is {DIGEST_HEX[algorithm]} lowercase hexadecimal digits."
        )


def parse(text: str, *, allow_digest: bool = True, default_tag: bool = True) -> Reference:
    """Parse what a user typed; raise InvalidReference with a clear reason when Docker would refuse it."""
    text = text.strip()
    if not text:
        raise InvalidReference("Enter an image reference, e.g. httpd, httpd:2.4 or registry:5000/team/app:1.0.")
    if any(ch.isspace() for ch in text):
        raise InvalidReference(f"“{text}” is not a valid reference: it contains a space.")
    remainder, at, digest = text.partition("@")
    if at:
        if not allow_digest:
            raise InvalidReference(f"“{text}”: a digest cannot be used here, only name:tag.")
        _check_digest(digest, text)
    name, tag = remainder, ""
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/"):
        name, tag = remainder[:colon], remainder[colon + 1 :]
        if not TAG.fullmatch(tag):
            raise InvalidReference(
                f"“{text}”: the tag “{tag}” is not valid; a tag is up to 128 letters, digits, _ . and -, "
                "and does not start with . or -."
            )
    if not name:
        raise InvalidReference(f"“{text}” is not a valid reference: the repository name is missing.")
    if len(name) > NAME_MAX:
        raise InvalidReference(f"“{text}”: the repository name is longer than {NAME_MAX} characters.")
    domain, path = _split_domain(name)
    if domain != DEFAULT_DOMAIN and not DOMAIN.fullmatch(domain):
        raise InvalidReference(f"“{text}”: “{domain}” is not a valid registry host[:port].")
    if path.lower() != path:
        # The name as typed, lowered; the tag keeps its case (tags may hold capitals).
        lowered = name.lower() + (f":{tag}" if tag else "") + (f"@{digest}" if at else "")
        raise InvalidReference(f"Image names are lower case: write {lowered}, not {text}.")
    for component in path.split("/"):
        if not PATH_COMPONENT.fullmatch(component):
            raise InvalidReference(
                f"“{text}”: “{component}” is not a valid repository name part; use lowercase letters and digits, "
                "separated by . _ __ or -."
            )
    if domain == DEFAULT_DOMAIN and _ID_LIKE.fullmatch(path.removeprefix("library/")):
        raise InvalidReference(f"“{text}” looks like an image id, not a repository name.")
    filled = not tag and not digest and default_tag
    return Reference(domain, path, DEFAULT_TAG if filled else tag, digest, filled)
