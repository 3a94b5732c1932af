"""Image updates: a tag's digest on its registry, and a container's create request rebuilt from its inspect."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.engine.core import call

# Config keys a container takes from its image unless set: carried over only when they differ from the image's.
FROM_IMAGE = ("Cmd", "Entrypoint", "Healthcheck", "WorkingDir", "StopSignal", "User")
CARRIED = ("Hostname", "Domainname", "Tty", "OpenStdin", "StdinOnce", "AttachStdin", "StopTimeout", "MacAddress")
DEFAULT_NETWORKS = ("default", "bridge", "host", "none")


def registry_digest(reference: str, auth_config: dict[str, str] | None) -> str:
    """The digest the registry serves for this tag now (a multi-platform image's index digest), asked through
    the engine's distribution endpoint (one manifest HEAD; the engine's mirrors and TLS settings apply)."""
    answer = call(lambda c: c.api.inspect_distribution(reference, auth_config=auth_config))
    return (answer.get("Descriptor") or {}).get("digest", "")


def raw_container(ref: str) -> dict[str, Any]:
    return call(lambda c: c.api.inspect_container(ref))


def raw_image(ref: str) -> dict[str, Any]:
    return call(lambda c: c.api.inspect_image(ref))


@dataclass
class Recreate:
    """What creating a container again takes: the create request, its name, the networks joined after it."""

    name: str
    config: dict[str, Any]
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name: connect() keyword arguments


def _aliases(endpoint: dict[str, Any], container_id: str) -> list[str]:
    # The engine adds the short id itself; passing it again would keep the old container's.
    return [a for a in endpoint.get("Aliases") or [] if a != container_id[:12]]


def recreate_request(old: dict[str, Any], image_config: dict[str, Any], image: str) -> Recreate:
    """The create request for `image` that gives a container the settings of `old` (its inspect):
    what it was created with, not what its old image supplied (the new image's defaults apply to those)."""
    config = old.get("Config") or {}
    image_config = image_config or {}
    request: dict[str, Any] = {"Image": image}
    for key in CARRIED:
        if config.get(key) not in (None, "", False):
            request[key] = config[key]
    if request.get("Hostname") == old["Id"][:12]:
        del request["Hostname"]  # the engine's default, which a new container gets anew
    mode = str((old.get("HostConfig") or {}).get("NetworkMode") or "")
    if mode == "host" or mode.startswith("container:"):
        for key in ("Hostname", "Domainname", "MacAddress"):  # the shared namespace's, not the container's to set
            request.pop(key, None)
    for key in FROM_IMAGE:
        if config.get(key) is not None and config.get(key) != image_config.get(key):
            request[key] = config[key]
    image_env = set(image_config.get("Env") or [])
    request["Env"] = [e for e in config.get("Env") or [] if e not in image_env]
    image_labels = image_config.get("Labels") or {}
    request["Labels"] = {k: v for k, v in (config.get("Labels") or {}).items() if image_labels.get(k) != v}
    request["ExposedPorts"] = {
        p: {} for p in config.get("ExposedPorts") or {} if p not in (image_config.get("ExposedPorts") or {})
    }
    request["Volumes"] = {v: {} for v in config.get("Volumes") or {} if v not in (image_config.get("Volumes") or {})}
    host = dict(old.get("HostConfig") or {})
    # Anonymous volumes hold the container's data too: the new one mounts the same volumes.
    named_targets = {str(b).split(":")[1] for b in host.get("Binds") or [] if ":" in str(b)}
    named_targets |= {m.get("Target") for m in host.get("Mounts") or []}
    anonymous = [
        {"Type": "volume", "Source": m["Name"], "Target": m["Destination"], "ReadOnly": not m.get("RW", True)}
        for m in old.get("Mounts") or []
        if m.get("Type") == "volume" and m.get("Destination") not in named_targets
    ]
    if anonymous:
        host["Mounts"] = [*(host.get("Mounts") or []), *anonymous]
    request["HostConfig"] = host
    endpoints = (old.get("NetworkSettings") or {}).get("Networks") or {}
    primary = host.get("NetworkMode") or "default"
    networks: dict[str, dict[str, Any]] = {}
    for name, endpoint in endpoints.items():
        settings = {
            "aliases": _aliases(endpoint, old["Id"]) or None,
            "links": endpoint.get("Links") or None,
            "ipv4_address": (endpoint.get("IPAMConfig") or {}).get("IPv4Address") or None,
            "ipv6_address": (endpoint.get("IPAMConfig") or {}).get("IPv6Address") or None,
        }
        if name == primary:
            if name not in DEFAULT_NETWORKS:
                request["NetworkingConfig"] = {"EndpointsConfig": {name: _endpoint_config(settings)}}
        elif not name.startswith("container:"):
            networks[name] = settings
    return Recreate(old.get("Name", "").lstrip("/"), request, networks)


def _endpoint_config(settings: dict[str, Any]) -> dict[str, Any]:
    addresses = (("IPv4Address", settings["ipv4_address"]), ("IPv6Address", settings["ipv6_address"]))
    ipam = {key: value for key, value in addresses if value}
    return {"Aliases": settings["aliases"], "Links": settings["links"], "IPAMConfig": ipam or None}


def create_again(recreate: Recreate) -> str:
    """Create the container (the engine takes one network at create; the others are joined before it starts)."""

    def create(c):
        created = c.api.create_container_from_config(recreate.config, name=recreate.name)
        try:
            for network, settings in recreate.networks.items():
                kwargs = {k: v for k, v in settings.items() if v}
                c.api.connect_container_to_network(created["Id"], network, **kwargs)
        except Exception:
            c.api.remove_container(created["Id"], force=True)
            raise
        return created["Id"]

    return call(create)
