"""Which registries the engine may be sent to: not its own host's loopback or link-local addresses.

A pull of 127.0.0.1:PORT/x makes the engine connect to PORT on its own host, and the error it answers
tells open ports from closed ones. So a registry on a loopback or link-local address (or a name that
resolves to one) is refused unless the engine's own configuration names it (a registry mirror or an
insecure registry, as `docker info` shows them) or an Admin lists it in ALLOWED_REGISTRIES.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from console import engine, snapshot
from console.images.reference import DEFAULT_DOMAIN, Reference

_LOCAL_NETWORKS = [
    ipaddress.ip_network(n) for n in ("127.0.0.0/8", "0.0.0.0/8", "169.254.0.0/16", "::1/128", "::/128", "fe80::/10")
]


def _host(domain: str) -> str:
    if domain.startswith("["):
        return domain[1:].partition("]")[0]
    return domain.rpartition(":")[0] if ":" in domain else domain


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        # inet_aton reads what resolvers read as IPv4 too: 127.1, 2130706433, 0x7f.0.0.1.
        return [ipaddress.IPv4Address(socket.inet_aton(host))]
    except OSError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []  # the engine will not find it either
    return [ipaddress.ip_address(info[4][0].partition("%")[0]) for info in found]


def is_local(domain: str) -> bool:
    """Whether host[:port] is the engine's own host: loopback, link-local or unspecified, or a name for one."""
    host = _host(domain).lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    for address in _addresses(host):
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if any(address in network for network in _LOCAL_NETWORKS):
            return True
    return False


def _registry_config() -> dict:
    # The engine's configuration changes only when its daemon restarts, which its watcher sees (and lists it
    # again): while one follows the engine, what the snapshot holds will do, however many pulls came since.
    kept = snapshot.peek("info") if snapshot.engine_problem() == "" else None
    info = kept[0] if kept else snapshot.read("info")[1]
    return info.get("RegistryConfig") or {}


def named_by_engine() -> set[str]:
    """The registries (host[:port]) the engine's configuration names: its mirrors and insecure registries."""
    config = _registry_config()
    names = set(config.get("IndexConfigs") or {})
    names.update(urlsplit(mirror).netloc for mirror in config.get("Mirrors") or [])
    return {name.lower() for name in names}


def refusal(ref: Reference) -> str:
    """Why the engine must not be sent to ref's registry, or "" when it may."""
    domain = ref.domain.lower()
    if domain == DEFAULT_DOMAIN or not is_local(domain):
        return ""
    if domain in {name.lower() for name in settings.ALLOWED_REGISTRIES}:
        return ""
    try:
        if domain in named_by_engine():
            return ""
    except engine.EngineError:
        pass  # no configuration to allow it: refused
    return (
        f"Pulling from {ref.domain} is refused: it is an address on the engine's own host (loopback or "
        "link-local), and neither the engine's configuration (registry mirrors, insecure registries) nor the "
        "console's ALLOWED_REGISTRIES names it. An Admin can add it to ALLOWED_REGISTRIES."
    )


def base_url(domain: str) -> str:
    """Where the engine asks a registry: Docker Hub's first mirror when it has one, over http when the engine
    treats the registry as insecure (named so, or an address in its insecure ranges, as 127.0.0.0/8 is)."""
    config = _registry_config()
    if domain == DEFAULT_DOMAIN:
        mirrors = config.get("Mirrors") or []
        if mirrors:
            return mirrors[0].rstrip("/")
        domain = "registry-1.docker.io"
    index = (config.get("IndexConfigs") or {}).get(domain)
    insecure = index is not None and not index.get("Secure", True)
    if index is None:
        addresses = _addresses(_host(domain))
        ranges = [ipaddress.ip_network(c, strict=False) for c in config.get("InsecureRegistryCIDRs") or []]
        insecure = any(a in r for a in addresses for r in ranges if a.version == r.version)
    return f"{'http' if insecure else 'https'}://{domain}"
