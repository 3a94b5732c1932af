"""Reaching engines over TLS and SSH for real: the lab's "tls" engine (tcp://, client certificates)
and its "ssh" engine (behind a local sshd, pinned host key), through `open_client`, and refused with
a message a person can act on when the certificates or the host key are not the ones given."""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from console.engine.connections import (
    Connection,
    ConnectionRefused,
    NotTrusted,
    host_key,
    open_client,
    probe,
)
from console.engine.core import _DockerClient
from tests.lab import docker_at, engine_start, engine_stop, free_port

TIMEOUT = 20


def lab(name: str) -> str:
    return os.environ[name]


def client_pem(name: str) -> str:
    return (Path(lab("LAB_TLS_CERTS")) / name).read_text()


def tls_connection(**changes) -> Connection:
    values = {
        "name": "tls",
        "url": lab("LAB_TLS_HOST"),
        "tls_ca": client_pem("ca.pem"),
        "tls_cert": client_pem("cert.pem"),
        "tls_key": client_pem("key.pem"),
    }
    return Connection(**{**values, **changes})


def pinned_host_key() -> str:
    return " ".join(Path(lab("LAB_SSH_HOST_KEY")).read_text().split()[:2])


def ssh_connection(**changes) -> Connection:
    values = {
        "name": "ssh",
        "url": lab("LAB_SSH_HOST"),
        "ssh_key": Path(lab("LAB_SSH_KEY")).read_text(),
        "ssh_host_key": pinned_host_key(),
    }
    return Connection(**{**values, **changes})


@pytest.fixture(scope="module")
def strangers(tmp_path_factory) -> dict[str, str]:
    """Material the lab's engines do not know: another CA, a client certificate it signed, an SSH key pair."""
    folder = tmp_path_factory.mktemp("strangers")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
    run = ["openssl", "req", "-x509", *ec]
    subprocess.run(
        [*run, "-keyout", folder / "ca-key.pem", "-out", folder / "ca.pem", "-subj", "/CN=other CA"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*run, "-CA", folder / "ca.pem", "-CAkey", folder / "ca-key.pem", "-keyout", folder / "key.pem"]
        + ["-out", folder / "cert.pem", "-subj", "/CN=intruder", "-addext", "extendedKeyUsage=clientAuth"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", folder / "id"], check=True, capture_output=True
    )
    return {name: (folder / name).read_text() for name in ("ca.pem", "cert.pem", "key.pem", "id", "id.pub")}


def data_root(made) -> str:
    return made.info()["DockerRootDir"]


# --- TLS ---------------------------------------------------------------------------------------------


def test_the_tls_engine_answers_through_open_client_with_its_client_certificate():
    made = open_client(tls_connection(), _DockerClient, TIMEOUT)
    try:
        assert made.version()["ApiVersion"] == made.api.api_version
        assert data_root(made) == f"{lab('LAB_ROOT')}/tls/data"  # that engine, not the first one
    finally:
        made.close()


@pytest.mark.security
def test_a_wrong_ca_is_refused_saying_the_engines_certificate_is_not_signed_by_it(strangers):
    with pytest.raises(NotTrusted) as refused:
        open_client(tls_connection(tls_ca=strangers["ca.pem"]), _DockerClient, TIMEOUT)
    message = str(refused.value)
    assert "TLS verification failed" in message
    assert "not signed by the CA given" in message
    assert lab("LAB_TLS_HOST") in message


@pytest.mark.security
def test_a_client_certificate_the_engine_does_not_trust_is_refused(strangers):
    conn = tls_connection(tls_cert=strangers["cert.pem"], tls_key=strangers["key.pem"])
    with pytest.raises(NotTrusted, match="refused our client certificate") as refused:
        open_client(conn, _DockerClient, TIMEOUT)
    assert "PRIVATE KEY" not in str(refused.value)


@pytest.mark.security
def test_a_client_key_that_is_not_the_certificates_is_refused_without_showing_it(strangers):
    with pytest.raises(ConnectionRefused, match="does not belong to the client certificate") as refused:
        open_client(tls_connection(tls_key=strangers["key.pem"]), _DockerClient, TIMEOUT)
    assert strangers["key.pem"].splitlines()[1] not in str(refused.value)


def test_an_unreadable_client_key_is_refused_asking_for_it_again():
    with pytest.raises(ConnectionRefused, match="can no longer be read"):
        open_client(tls_connection(tls_key=None), _DockerClient, TIMEOUT)


@pytest.mark.security
def test_plain_tcp_is_refused_unless_the_engine_is_marked_insecure():
    with pytest.raises(ConnectionRefused, match="plain TCP without TLS"):
        open_client(Connection(name="plain", url=lab("LAB_TLS_HOST")), _DockerClient, TIMEOUT)
    with plain_tcp_to(lab("LAB_TLS_SOCKET")) as url:
        made = open_client(Connection(name="plain", url=url, insecure=True), _DockerClient, TIMEOUT)
        try:
            assert data_root(made) == f"{lab('LAB_ROOT')}/tls/data"
        finally:
            made.close()


def test_a_single_engine_set_up_from_the_environment_reads_dockers_own_tls_variables(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", lab("LAB_TLS_HOST"))
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", lab("LAB_TLS_CERTS"))
    conn = Connection(name="local", url=lab("LAB_TLS_HOST"), from_environment=True)
    made = open_client(conn, _DockerClient, TIMEOUT)
    try:
        assert data_root(made) == f"{lab('LAB_ROOT')}/tls/data"
    finally:
        made.close()


@contextlib.contextmanager
def plain_tcp_to(unix_socket: str):
    """An engine on plain tcp://127.0.0.1 (what `insecure` is for): a forwarder to its unix socket."""

    class Forward(socketserver.BaseRequestHandler):
        def handle(self):
            with socket.socket(socket.AF_UNIX) as upstream:
                upstream.connect(unix_socket.removeprefix("unix://"))
                pipe = threading.Thread(target=copy, args=(upstream, self.request), daemon=True)
                pipe.start()
                copy(self.request, upstream)
                pipe.join(5)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def copy(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)


# --- SSH ---------------------------------------------------------------------------------------------


def test_the_ssh_engine_answers_through_ssh_with_the_pinned_host_key():
    made = open_client(ssh_connection(), _DockerClient, TIMEOUT)
    try:
        assert made.ping()
        assert made.version()["ApiVersion"] == made.api.api_version
        assert data_root(made) == f"{lab('LAB_ROOT')}/ssh/data"
    finally:
        made.close()


def test_an_ssh_connection_the_server_closed_is_opened_again_on_the_next_call():
    made = open_client(ssh_connection(), _DockerClient, TIMEOUT)
    try:
        assert made.ping()
        made.api._custom_adapter.ssh_client.get_transport().close()  # what sshd restarting does
        assert made.ping()
    finally:
        made.close()


def test_host_key_shows_the_fingerprint_ssh_keygen_shows():
    shown = host_key(lab("LAB_SSH_HOST"), TIMEOUT)
    keygen = subprocess.run(["ssh-keygen", "-lf", lab("LAB_SSH_HOST_KEY")], capture_output=True, text=True, check=True)
    assert shown.fingerprint == keygen.stdout.split()[1]
    assert shown.fingerprint.startswith("SHA256:")
    assert shown.line == pinned_host_key()


@pytest.mark.security
def test_a_changed_host_key_is_refused_naming_both_fingerprints(strangers):
    other = " ".join(strangers["id.pub"].split()[:2])
    with pytest.raises(NotTrusted) as refused:
        open_client(ssh_connection(ssh_host_key=other), _DockerClient, TIMEOUT)
    message = str(refused.value)
    assert "HOST KEY HAS CHANGED" in message
    assert host_key(lab("LAB_SSH_HOST"), TIMEOUT).fingerprint in message
    keygen = subprocess.run(
        ["ssh-keygen", "-lf", "/dev/stdin"], input=strangers["id.pub"], capture_output=True, text=True
    )
    assert keygen.stdout.split()[1] in message


@pytest.mark.security
def test_without_a_pinned_host_key_the_engine_is_refused_before_connecting():
    with pytest.raises(ConnectionRefused, match="no host key pinned: test the connection and accept its fingerprint"):
        open_client(ssh_connection(ssh_host_key=""), _DockerClient, TIMEOUT)


@pytest.mark.security
def test_a_key_the_ssh_server_does_not_know_is_refused_without_showing_it(strangers):
    with pytest.raises(NotTrusted, match="refused the key given for root") as refused:
        open_client(ssh_connection(ssh_key=strangers["id"]), _DockerClient, TIMEOUT)
    assert strangers["id"].splitlines()[1] not in str(refused.value)


# --- test connection ---------------------------------------------------------------------------------


@pytest.mark.parametrize("conn", [tls_connection, ssh_connection], ids=["tls", "ssh"])
def test_probe_times_a_ping_and_reads_the_engines_version(conn):
    result = probe(conn(), _DockerClient, TIMEOUT)
    assert result.ok, result.error
    assert result.latency_ms is not None and 0 < result.latency_ms < TIMEOUT * 1000
    assert result.engine_version and result.api_version
    assert (result.os, result.arch) == ("linux", _DockerClient(base_url=lab("DOCKER_HOST")).version()["Arch"])


def test_probe_says_why_it_failed(strangers):
    assert "not signed by the CA given" in probe(tls_connection(tls_ca=strangers["ca.pem"]), _DockerClient, 5).error
    unreachable = probe(tls_connection(url=f"tcp://127.0.0.1:{free_port()}"), _DockerClient, 5)
    assert not unreachable.ok
    assert "connection refused" in unreachable.error
    assert "no host key pinned" in probe(ssh_connection(ssh_host_key=""), _DockerClient, 5).error


# --- real work on the other engines ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conn", "socket_var"), [(tls_connection, "LAB_TLS_SOCKET"), (ssh_connection, "LAB_SSH_SOCKET")], ids=["tls", "ssh"]
)
def test_a_pull_and_a_run_land_on_that_engine_and_not_on_the_first(conn, socket_var):
    name = f"transport-{uuid.uuid4().hex[:8]}"
    made = open_client(conn(), _DockerClient, TIMEOUT)
    try:
        made.images.pull("hello-world", tag="latest")
        output = made.containers.run("hello-world", name=name)
        assert b"Hello from Docker!" in output
        there = docker_at(lab(socket_var), "ps", "-a", "--filter", f"name={name}", "--format", "{{.Names}}")
        assert there.stdout.decode().split() == [name]
        first = docker_at(lab("DOCKER_HOST"), "ps", "-a", "--filter", f"name={name}", "--format", "{{.Names}}")
        assert first.returncode == 0 and first.stdout.decode().split() == []
    finally:
        with contextlib.suppress(Exception):
            made.containers.get(name).remove(force=True)
        made.close()


@pytest.mark.fault
@pytest.mark.serial
def test_a_stopped_tls_engine_probes_as_unreachable_and_answers_once_started_again():
    engine_stop("tls")
    try:
        result = probe(tls_connection(), _DockerClient, 5)
        assert not result.ok
        assert "connection refused" in result.error
    finally:
        engine_start("tls")
    assert probe(tls_connection(), _DockerClient, 5).ok


@pytest.mark.fault
@pytest.mark.serial
def test_a_stopped_engine_behind_ssh_probes_as_not_answering_and_answers_once_started_again():
    made = open_client(ssh_connection(), _DockerClient, TIMEOUT)
    engine_stop("ssh")
    try:
        result = probe(ssh_connection(), _DockerClient, 5)
        assert not result.ok
        assert "no engine answered behind it" in result.error, result.error
    finally:
        engine_start("ssh")
    try:
        assert made.ping()  # the client made before answers again: each call opens a channel of its own
    finally:
        made.close()
