"""Containers made on the lab engine for the container tests, and removed after each test."""

from __future__ import annotations

import contextlib
import http.client
import time
import urllib.request
import uuid

import docker
import docker.errors
import pytest


def unique(purpose: str) -> str:
    return f"t-{purpose}-{uuid.uuid4().hex[:8]}"


class Lab:
    def __init__(self) -> None:
        self.client = docker.from_env()
        self.names: list[str] = []

    def name(self, purpose: str) -> str:
        """A unique name this test owns: whatever has it at the end is removed."""
        name = unique(purpose)
        self.names.append(name)
        return name

    def pull(self, repository: str, tag: str) -> None:
        self.client.images.pull(repository, tag=tag)

    def httpd(self, purpose: str = "httpd", **kwargs):
        """A running httpd:2.4 published on a free port of 127.0.0.1."""
        self.pull("httpd", "2.4")
        container = self.client.containers.run(
            "httpd:2.4", name=self.name(purpose), detach=True, ports={"80/tcp": ("127.0.0.1", None)}, **kwargs
        )
        container.reload()
        return container

    def hello(self, purpose: str = "hello", **kwargs):
        """An exited hello-world container."""
        self.pull("hello-world", "latest")
        container = self.client.containers.run("hello-world", name=self.name(purpose), detach=True, **kwargs)
        container.wait()
        container.reload()
        return container

    def get(self, name: str):
        return self.client.containers.get(name)

    def exists(self, name: str) -> bool:
        try:
            self.client.containers.get(name)
        except docker.errors.NotFound:
            return False
        return True

    def cleanup(self) -> None:
        for name in self.names:
            with contextlib.suppress(docker.errors.NotFound):
                self.client.containers.get(name).remove(force=True, v=True)
        self.client.close()


def host_port(container) -> int:
    container.reload()
    return int(container.ports["80/tcp"][0]["HostPort"])


@pytest.fixture
def lab():
    made = Lab()
    yield made
    made.cleanup()


def served(container, timeout: float = 30.0) -> bytes:
    """GET / from the container's published port 80, once its httpd listens.

    The image prints its "serving" line just before it execs httpd, so on a busy machine the first
    request can reach docker-proxy before httpd has bound the port: docker-proxy then resets the
    connection. Such a request never reached httpd (it logs nothing), so it is asked again.
    """
    url = f"http://127.0.0.1:{host_port(container)}/"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read()
        except (ConnectionError, http.client.RemoteDisconnected):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
