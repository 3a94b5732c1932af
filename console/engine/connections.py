"""How to reach one engine: unix://, tcp:// with TLS client certificates, or ssh:// (paramiko, pinned host key).

Plain values in, a docker client out; the Engine rows (console/engines) hold what a Connection carries.
Private material (the TLS client key, the SSH key) stays in memory: it is never written to disk, logged,
or put in an exception's text.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import socket
import ssl
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import docker
import docker.constants
import docker.tls
import docker.utils
import paramiko
import requests.adapters
from docker.transport import SSHHTTPAdapter


@dataclass(frozen=True)
class Connection:
    name: str
    url: str
    insecure: bool = False
    tls_ca: str = ""  # PEM
    tls_cert: str = ""  # PEM
    # Private: kept out of repr, so no traceback, log or error page shows them.
    tls_key: str | None = field(default="", repr=False)  # PEM; None: stored but unreadable (SECRET_KEY changed)
    ssh_key: str | None = field(default="", repr=False)  # PEM / OpenSSH private key; None: unreadable
    ssh_host_key: str = ""  # "<type> <base64>" pinned at first contact
    revision: int = 0
    # Set by the environment (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), as the docker CLI reads it.
    from_environment: bool = False

    @property
    def uses_tls(self) -> bool:
        return bool(self.tls_ca or self.tls_cert or self.tls_key) or self.tls_key is None


class ConnectionRefused(Exception):
    """The connection's settings are refused before any byte is sent (plain tcp:// not marked insecure, …)."""


class NotTrusted(ConnectionRefused):
    """The engine was reached, but its identity (TLS certificate, SSH host key) or ours was refused."""


@dataclass(frozen=True)
class HostKey:
    type: str  # "ssh-ed25519"
    base64: str
    fingerprint: str  # "SHA256:…", as OpenSSH shows it

    @property
    def line(self) -> str:
        """What Engine.ssh_host_key pins."""
        return f"{self.type} {self.base64}"


@dataclass(frozen=True)
class Probe:
    ok: bool
    latency_ms: float | None = None  # one ping's round trip on an open connection
    engine_version: str = ""
    api_version: str = ""
    os: str = ""
    arch: str = ""
    error: str = ""


# --- opening a client ------------------------------------------------------------------------------


def open_client(conn: Connection, client_class: type, timeout: int):
    """A client of `client_class` (a docker.DockerClient subclass) for this connection."""
    if conn.from_environment:
        # One engine set up as the docker CLI is (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).
        kwargs = {**docker.utils.kwargs_from_env(), "base_url": conn.url}
        tls = kwargs.get("tls")
        if isinstance(tls, docker.tls.TLSConfig) and tls.verify and tls.ca_cert and conn.url.startswith("tcp://"):
            # docker-py gives requests the CA as a path, which REQUESTS_CA_BUNDLE silently overrides: the same
            # files go through our TLS adapter instead.
            return open_client(_read_cert_files(conn, tls), client_class, timeout)
        return client_class(timeout=timeout, version="auto", **kwargs)
    if conn.url.startswith("ssh://"):
        adapter = _PinnedSSHAdapter(conn, timeout)  # connects: a refused host key stops here
        # use_ssh_client: docker-py's own adapter then shells out lazily, so it opens nothing before ours replaces it.
        made = client_class(base_url=conn.url, timeout=timeout, version=_UNSET, use_ssh_client=True)
        return _ready(conn, made, "http+docker://ssh", adapter)
    if conn.url.startswith("tcp://") and conn.uses_tls:
        adapter = _TLSAdapter(_tls_context(conn))
        made = client_class(base_url=conn.url, timeout=timeout, version=_UNSET, tls=True)
        return _ready(conn, made, "https://", adapter)
    if conn.url.startswith("tcp://") and not conn.insecure:
        raise ConnectionRefused(
            f"{conn.url} is plain TCP without TLS: anyone on the path could drive this engine. "
            "Give its TLS certificates, or mark the engine insecure."
        )
    return client_class(base_url=conn.url, timeout=timeout, version="auto")


def _read_cert_files(conn: Connection, tls: docker.tls.TLSConfig) -> Connection:
    cert, key = tls.cert if isinstance(tls.cert, tuple) else (tls.cert, tls.cert)
    return replace(conn, from_environment=False, tls_ca=_read(tls.ca_cert), tls_cert=_read(cert), tls_key=_read(key))


def _read(path: str | None) -> str:
    return Path(path).read_text() if path else ""


# docker-py asks the engine its API version in its constructor, before our adapter is mounted: a version
# given up front stops it, and `_ready` asks again through our adapter.
_UNSET = docker.constants.MINIMUM_DOCKER_API_VERSION


def _ready(conn: Connection, made, prefix: str, adapter: requests.adapters.BaseAdapter):
    """Put our adapter where docker-py mounted its own, then ask the API version through it."""
    api = made.api
    api._custom_adapter.close()
    api._custom_adapter = adapter  # docker-py reaches the adapter by this name (attach sockets, close)
    api.mount(prefix, adapter)
    try:
        api._version = api._retrieve_server_version()
    except Exception as exc:
        made.close()
        if (said := describe(exc)) and _identity_problem(exc):
            raise NotTrusted(f"{conn.url}: {said}") from exc
        raise
    return made


# --- TLS -------------------------------------------------------------------------------------------


def _tls_context(conn: Connection) -> ssl.SSLContext:
    """Our CA only (never the system's), hostname checked, and our client certificate if given."""
    if conn.tls_key is None:
        raise ConnectionRefused(
            f"{conn.url}: the TLS client key can no longer be read (SECRET_KEY changed): give it again."
        )
    try:
        context = ssl.create_default_context(cadata=conn.tls_ca or None)
    except (ssl.SSLError, ValueError):
        raise ConnectionRefused(f"{conn.url}: the CA certificate is not a valid PEM certificate.") from None
    # Python's strict mode wants a keyUsage in the CA, which docker's own recipe for engine CAs leaves out
    # (and the docker CLI does not ask for).
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    if conn.tls_cert or conn.tls_key:
        _load_client_certificate(context, conn)
    return context


def _load_client_certificate(context: ssl.SSLContext, conn: Connection) -> None:
    # ssl reads a certificate chain from a path only: an anonymous in-memory file (memfd) gives one
    # without the key ever reaching a disk. It is read once, here, then closed.
    fd = os.memfd_create("console-tls", os.MFD_CLOEXEC)
    try:
        os.write(fd, f"{conn.tls_cert.strip()}\n{(conn.tls_key or '').strip()}\n".encode())
        context.load_cert_chain(f"/proc/self/fd/{fd}")
    except ssl.SSLError as exc:
        why = "does not belong to" if "KEY_VALUES_MISMATCH" in str(exc) else "or the certificate is not valid PEM for"
        raise ConnectionRefused(f"{conn.url}: the TLS client key {why} the client certificate.") from None
    finally:
        os.close(fd)


class _TLSAdapter(requests.adapters.HTTPAdapter):
    """HTTPS with one SSLContext built from the connection's PEM text."""

    def __init__(self, context: ssl.SSLContext):
        self._context = context
        super().__init__(
            pool_connections=docker.constants.DEFAULT_NUM_POOLS, pool_maxsize=docker.constants.DEFAULT_MAX_POOL_SIZE
        )

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn, url, verify, cert):
        # requests would add certifi's public CAs to our context; the engine is trusted by its CA alone.
        conn.cert_reqs = "CERT_REQUIRED"


# --- SSH -------------------------------------------------------------------------------------------


class _PinnedSSHAdapter(SSHHTTPAdapter):
    """docker-py's paramiko adapter knowing only the connection's key and pinned host key:
    no ~/.ssh/config, no known_hosts, no agent, no other keys."""

    def __init__(self, conn: Connection, timeout: int):
        if conn.ssh_key is None:
            raise ConnectionRefused(
                f"{conn.url}: the SSH key can no longer be read (SECRET_KEY changed): give it again."
            )
        if not conn.ssh_key:
            raise ConnectionRefused(f"{conn.url}: no SSH private key is given.")
        if not conn.ssh_host_key:
            raise ConnectionRefused(f"{conn.url}: no host key pinned: test the connection and accept its fingerprint.")
        self._engine = conn
        self._connect_timeout = timeout
        super().__init__(
            conn.url,
            timeout,
            pool_connections=docker.constants.DEFAULT_NUM_POOLS_SSH,
            max_pool_size=docker.constants.DEFAULT_MAX_POOL_SIZE,
        )

    def _create_paramiko_client(self, base_url: str) -> None:
        url = urllib.parse.urlparse(base_url)
        port = url.port or 22
        self.ssh_client = paramiko.SSHClient()
        # paramiko names a host on another port "[host]:port" in its host keys.
        known_as = url.hostname if port == 22 else f"[{url.hostname}]:{port}"
        pinned = _pinned_key(self._engine)
        self.ssh_client.get_host_keys().add(known_as, pinned.get_name(), pinned)
        self.ssh_client.set_missing_host_key_policy(paramiko.RejectPolicy())
        self.ssh_params = {
            "hostname": url.hostname,
            "port": port,
            "username": url.username or "root",
            "pkey": _private_key(self._engine),
            "look_for_keys": False,
            "allow_agent": False,
            "timeout": self._connect_timeout,
            "banner_timeout": self._connect_timeout,
            "auth_timeout": self._connect_timeout,
            "channel_timeout": self._connect_timeout,
        }

    def get_connection(self, url, proxies=None):
        # docker-py reconnects only when there is no transport at all; one the server closed stays dead.
        transport = self.ssh_client.get_transport()
        if transport is None or not transport.is_active():
            with self.pools.lock:
                self.pools.clear()  # their channels belong to the dead transport
                self.ssh_client.close()
                self._connect()
        return super().get_connection(url, proxies)

    def _connect(self) -> None:
        url = self._engine.url
        try:
            super()._connect()
        except paramiko.BadHostKeyException as exc:
            raise NotTrusted(
                f"{url}: THE ENGINE'S SSH HOST KEY HAS CHANGED: it shows {exc.key.get_name()} {exc.key.fingerprint}, "
                f"the key pinned is {exc.expected_key.get_name()} {exc.expected_key.fingerprint}. Someone may be "
                "in the middle, or the host was reinstalled: check with its administrator, then pin the new key."
            ) from None
        except paramiko.AuthenticationException:
            raise NotTrusted(
                f"{url}: the SSH server refused the key given for {self.ssh_params['username']}."
            ) from None


def _pinned_key(conn: Connection) -> paramiko.PKey:
    try:
        kind, blob = conn.ssh_host_key.split()[:2]
        return paramiko.PKey.from_type_string(kind, base64.b64decode(blob))
    except Exception:
        raise ConnectionRefused(f'{conn.url}: the pinned host key is not "<type> <base64>".') from None


def _private_key(conn: Connection) -> paramiko.PKey:
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(conn.ssh_key or ""))
        except (paramiko.SSHException, ValueError):
            continue
    raise ConnectionRefused(
        f"{conn.url}: the SSH key is not an unencrypted ed25519, ECDSA or RSA private key (OpenSSH or PEM)."
    )


def host_key(url: str, timeout: float) -> HostKey:
    """The host key an ssh:// engine shows at first contact (no authentication), for an Admin to accept."""
    parsed = urllib.parse.urlparse(url)
    sock = socket.create_connection((parsed.hostname, parsed.port or 22), timeout=timeout)
    transport = paramiko.Transport(sock)
    transport.banner_timeout = transport.handshake_timeout = timeout
    try:
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
    finally:
        transport.close()
    return HostKey(key.get_name(), key.get_base64(), fingerprint(key.asbytes()))


def fingerprint(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint of a public key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


# --- testing a connection --------------------------------------------------------------------------


def probe(conn: Connection, client_class: type, timeout: int) -> Probe:
    """The Engines page's "Test connection": connect, one timed ping, the engine's version."""
    made = None
    try:
        made = open_client(conn, client_class, timeout)
        started = time.monotonic()
        made.ping()
        latency = (time.monotonic() - started) * 1000
        version = made.version()
    except ConnectionRefused as exc:
        return Probe(ok=False, error=str(exc))
    except Exception as exc:
        silent = "the engine did not answer"
        if conn.url.startswith("ssh://"):  # sshd answered, and `docker system dial-stdio` behind it did not
            silent = "the SSH server let us in, but no engine answered behind it (docker system dial-stdio)"
        reason = describe(exc)
        if reason is None or (conn.url.startswith("ssh://") and reason.startswith("the connection was cut")):
            reason = silent  # over SSH a cut channel is dial-stdio finding no engine
        return Probe(ok=False, error=f"{conn.url}: {reason}")
    finally:
        if made is not None:
            made.close()
    return Probe(
        ok=True,
        latency_ms=round(latency, 1),
        engine_version=str(version.get("Version", "")),
        api_version=str(version.get("ApiVersion", "")),
        os=str(version.get("Os", "")),
        arch=str(version.get("Arch", "")),
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """An exception and every one it wraps (requests and urllib3 wrap the socket's error several times)."""
    seen, todo = set(), [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [
            x for x in (e.__cause__, e.__context__, getattr(e, "reason", None), *e.args) if isinstance(x, BaseException)
        ]


_TLS_ALERTS = ("ALERT_UNKNOWN_CA", "ALERT_BAD_CERTIFICATE", "CERTIFICATE_REQUIRED", "ALERT_CERTIFICATE_UNKNOWN")


def _identity_problem(exc: BaseException) -> bool:
    text = " ".join(str(e) for e in _chain(exc))
    return any(isinstance(e, ssl.SSLError) for e in _chain(exc)) or any(a in text for a in _TLS_ALERTS)


def describe(exc: BaseException) -> str | None:
    """A sentence for a failure to connect (TLS, SSH, the network), or None when it is none of those."""
    errors = list(_chain(exc))
    text = " ".join(str(e) for e in errors)
    for e in errors:
        if isinstance(e, ConnectionRefused):
            return str(e)
        if isinstance(e, ssl.SSLCertVerificationError):
            if e.verify_code in (18, 19, 20, 21):  # self-signed, or an issuer not in the CA given
                return "TLS verification failed: the engine's certificate is not signed by the CA given."
            if e.verify_code == 10:
                return "TLS verification failed: the engine's certificate has expired."
            if e.verify_code == 62:
                return "TLS verification failed: the engine's certificate does not name this host."
            return f"TLS verification failed: {e.verify_message}."
    if any(alert in text for alert in _TLS_ALERTS):
        return "TLS: the engine refused our client certificate (not signed by a CA it trusts, or none given)."
    if "WRONG_VERSION_NUMBER" in text or "record layer failure" in text:
        return "TLS: the engine does not speak TLS at this address."
    for e in errors:
        if isinstance(e, paramiko.SSHException):
            return f"SSH: {e}"
        if isinstance(e, ConnectionRefusedError):
            return "connection refused (nothing listens there, or the engine is stopped)."
        if isinstance(e, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
            return "the connection was cut (the engine is stopping or restarting)."
        if isinstance(e, socket.timeout | TimeoutError):
            return "no answer in time."
        if isinstance(e, socket.gaierror):
            return "unknown host name."
        if isinstance(e, FileNotFoundError):
            return "no such socket."
    if "Read timed out" in text or "timed out" in text:
        return "no answer in time."
    if "Connection refused" in text:
        return "connection refused (nothing listens there, or the engine is stopped)."
    return None
