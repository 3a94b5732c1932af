"""Twenty people watching the dashboard and the container list cost the engine what one does.

A counting proxy sits in front of the lab engine; the console (pages and the watcher) talks to
the engine only through it. One simulated viewer polls a few rounds, then twenty do as many each.
(Viewers over time, 1 to 50 of them, are measured by `make bench`.)
"""

import os
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.engine_proxy import EngineProxy

pytest_plugins = ["tests.watcher_process"]
ROUNDS = 2


@pytest.fixture
def counting_engine(settings):
    proxy = EngineProxy(os.environ["DOCKER_HOST"]).start()
    settings.DOCKER_HOST = proxy.address
    yield proxy
    proxy.stop()


def view(user, served: list[int]) -> None:
    """One browser: open the pages, then poll as their live parts do, ROUNDS times."""
    client = Client()
    client.force_login(user)
    token = ""
    try:
        for path in (reverse("dashboard", args=["local"]), reverse("container_list", args=["local"])):
            assert client.get(path).status_code == 200
            served.append(1)
        for _ in range(ROUNDS):
            poll = client.get(reverse("dashboard", args=["local"]), {"v": token}, headers={"HX-Request": "true"})
            assert poll.status_code in (200, 204)
            if poll.status_code == 200:
                token = poll.content.decode().split('"v": "', 1)[1].split('"', 1)[0]
            page = client.get(reverse("container_list", args=["local"]), {"all": "1"})
            assert page.status_code == 200 and "polled-by-many" in page.content.decode()
            served.append(2)
    finally:
        connection.close()


def watch(viewers: int, user, proxy: EngineProxy) -> tuple[list[str], int]:
    """The engine requests made while `viewers` people watch, and the pages they got."""
    served: list[int] = []
    start = proxy.count()
    threads = [threading.Thread(target=view, args=(user, served)) for _ in range(viewers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return proxy.since(start), sum(served)


@pytest.mark.serial  # another test's engine traffic would reach its watcher through the counting proxy
def test_twenty_viewers_cost_the_engine_no_more_than_twice_what_one_does(
    start_watcher, counting_engine, viewer, registry
):
    import docker

    client = docker.from_env()
    client.images.pull("hello-world", tag="latest")
    client.containers.create("hello-world", name="polled-by-many")
    try:
        start_watcher(DOCKER_HOST=counting_engine.address).wait_following()

        one, one_served = watch(1, viewer, counting_engine)
        many, many_served = watch(20, viewer, counting_engine)
    finally:
        client.containers.get("polled-by-many").remove()

    print(f"engine requests: {len(one)} for one viewer ({one_served} pages), {len(many)} for twenty ({many_served})")
    assert many_served == 20 * one_served  # twenty people really were watching
    assert len(many) <= 2 * max(len(one), 1), f"one viewer: {one}\ntwenty viewers: {many}"
    # and no page ever asked for disk use or container sizes
    assert not [r for r in one + many if "/system/df" in r or "size=1" in r or "size=true" in r]
