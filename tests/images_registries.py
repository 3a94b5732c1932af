"""Registries the image tests start themselves, on 127.0.0.1 (which dockerd reaches over plain HTTP):
a slow link to the lab registry, and a registry that needs a password."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import subprocess
import tarfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import docker
import docker.errors
import pytest

from tests.lab import free_port, port_open, wait_for


class SlowRegistry:
    """The lab registry behind a link of `rate` bytes/s for blobs; notes when a client hangs up mid-blob."""

    def __init__(self, upstream: str, rate: int):
        self.upstream, self.rate = upstream, rate
        self.requests: list[str] = []
        self.blob_started = threading.Event()
        self.aborted = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        link = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self._forward(body=False)

            def do_GET(self):
                self._forward(body=True)

            def _forward(self, body: bool):
                link.requests.append(f"{self.command} {self.path}")
                upstream = http.client.HTTPConnection(link.upstream, timeout=30)
                upstream.putrequest(self.command, self.path, skip_accept_encoding=True)
                for key, value in self.headers.items():  # every Accept header: they pick the manifest type
                    if key.lower() not in ("host", "connection"):
                        upstream.putheader(key, value)
                upstream.endheaders()
                response = upstream.getresponse()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.end_headers()
                slow = body and "/blobs/" in self.path
                if slow:
                    link.blob_started.set()
                try:
                    while body and (chunk := response.read(16384)):
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        if slow:
                            time.sleep(len(chunk) / link.rate)
                except (BrokenPipeError, ConnectionResetError):
                    link.aborted.set()
                finally:
                    upstream.close()

        return Handler

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class AuthRegistry:
    """A registry (docker-registry serve) that lets only `user` in, with a bcrypt htpasswd file."""

    def __init__(self, root: Path, user: str, password: str):
        self.user, self.password = user, password
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        htpasswd = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, check=True, text=True)
        (root / "htpasswd").write_text(htpasswd.stdout)
        config = {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(root / "data")}},
            "http": {"addr": self.host},
            "auth": {"htpasswd": {"realm": "console-tests", "path": str(root / "htpasswd")}},
        }
        (root / "registry.yml").write_text(json.dumps(config))
        self.log = open(root / "registry.log", "wb")
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", str(root / "registry.yml")], stdout=self.log, stderr=subprocess.STDOUT
        )
        wait_for(lambda: port_open(self.port), "the registry with a password")

    def push(self, source: str, repository: str, tag: str) -> None:
        """Put an image the engine has into this registry (logged in), then forget it on the engine."""
        client = docker.from_env()
        client.api.tag(source, f"{self.host}/{repository}", tag)
        auth = {"username": self.user, "password": self.password}
        for message in client.api.push(
            f"{self.host}/{repository}", tag=tag, stream=True, decode=True, auth_config=auth
        ):
            assert "error" not in message, message
        client.api.remove_image(f"{self.host}/{repository}:{tag}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.log.close()


def import_image(repository: str | None = None, tag: str | None = None, size: int = 1000) -> str:
    """A one-layer image of `size` random bytes, made on the engine (`docker import`); a new layer every time."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        info = tarfile.TarInfo("data.bin")
        info.size = size
        tar.addfile(info, io.BytesIO(os.urandom(size)))
    client = docker.from_env()
    answer = client.api.import_image_from_data(data.getvalue(), repository=repository, tag=tag)
    return json.loads(answer.strip().splitlines()[-1])["status"]


def seed_image(registry: str, repository: str, size: int) -> str:
    """Put a fresh image of `size` random bytes into the registry as repository:1; the engine keeps no copy."""
    import_image(f"{registry}/{repository}", "1", size)
    client = docker.from_env()
    for message in client.api.push(f"{registry}/{repository}", tag="1", stream=True, decode=True):
        assert "error" not in message, message
    client.api.remove_image(f"{registry}/{repository}:1")
    return f"{repository}:1"


def forget(*references: str) -> None:
    """Remove these names from the lab engine, so a test starts from a known state; an image left without
    a name goes too, with the containers other tests left on it (else it stays, and a pull only re-tags it)."""
    client = docker.from_env()
    for reference in references:
        try:
            image_id = client.api.inspect_image(reference)["Id"]
        except docker.errors.NotFound:
            continue
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_image(reference, force=True)
        with contextlib.suppress(docker.errors.NotFound):
            if not client.api.inspect_image(image_id).get("RepoTags"):
                _remove_whole(client, image_id)


def forget_repositories(*names: str) -> None:
    """For serial tests: every image of these repositories under any registry's name (`httpd` matches
    httpd:2.4 and 127.0.0.1:5000/library/httpd:2.2), with the containers on them, as if never pulled."""
    client = docker.from_env()
    for image in client.api.images():
        repositories = {tag.rpartition(":")[0].rpartition("/")[2] for tag in image.get("RepoTags") or []}
        if repositories & set(names):
            _remove_whole(client, image["Id"])


def _remove_whole(client: docker.DockerClient, image_id: str) -> None:
    for container in client.api.containers(all=True, filters={"ancestor": image_id}):
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(container["Id"], force=True)
    with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
        client.api.remove_image(image_id, force=True)


LAYER = 16_000_000  # at 2 MB/s a pull takes long enough to watch, join and cancel it


@pytest.fixture(name="slow_reference")
def slow_reference_fixture(registry, settings):
    """A fresh image (nothing of it on the engine) behind a slow link to the lab registry (on 127.0.0.1, which
    the engine's configuration does not name: the console is told to allow it, as an Admin would)."""
    link = SlowRegistry(registry, rate=2_000_000)
    settings.ALLOWED_REGISTRIES = [link.host]
    repository = f"slow/app{uuid.uuid4().hex[:8]}"
    seed_image(registry, repository, LAYER)
    yield link, f"{link.host}/{repository}:1"
    link.stop()
