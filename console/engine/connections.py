"""How to reach one engine: unix://, tcp:// with TLS client certificates, or ssh:// (paramiko, pinned host key).

Plain values in, a docker client out; the Engine rows (console/engines) hold what a Connection carries.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Connection:
    name: str
    url: str
    insecure: bool = False
    tls_ca: str = ""  # PEM
    tls_cert: str = ""  # PEM
    tls_key: str | None = ""  # PEM; None: stored but unreadable (SECRET_KEY changed)
    ssh_key: str | None = ""  # PEM / OpenSSH private key; None: unreadable
    ssh_host_key: str = ""  # "<type> <base64>" pinned at first contact
    revision: int = 0
    # Set by the environment (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), as the docker CLI reads it.
    from_environment: bool = False


class ConnectionRefused(Exception):
    """The connection's settings are refused before any byte is sent (plain tcp:// not marked insecure, …)."""


def open_client(conn: Connection, client_class: type, timeout: int):
    """A client of `client_class` (a docker.DockerClient subclass) for this connection."""
    if conn.url.startswith("tcp://") and not conn.insecure and not conn.from_environment:
        raise ConnectionRefused(
            f"{conn.url} is plain TCP without TLS: anyone on the path could drive this engine. "
            "Give its TLS certificates, or mark the engine insecure."
        )
    return client_class(base_url=conn.url, timeout=timeout, version="auto")
