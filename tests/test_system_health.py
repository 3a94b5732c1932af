"""Health: each part of the console green or red with the reason — and never a 500."""

import re
import signal

import pytest
from django.urls import reverse

from tests.lab import free_port

pytest_plugins = ["tests.watcher_process"]


def health(client) -> dict[str, tuple[bool, str]]:
    response = client.get(reverse("system", args=["local"]))
    assert response.status_code == 200
    items = re.findall(
        r'<li class="health-(ok|bad)" id="health-([\w-]+)">.*?<span class="reason">(.*?)</span>',
        response.content.decode(),
        re.S,
    )
    return {name: (state == "ok", reason) for state, name, reason in items}


@pytest.mark.worker
def test_every_part_is_green_when_everything_runs(worker, start_watcher, viewer_client):
    start_watcher().wait_following()
    parts = health(viewer_client)
    assert set(parts) == {"engine", "database", "redis", "celery-workers", "watcher"}
    assert all(ok for ok, _ in parts.values()), parts
    assert "ping answered in" in parts["engine"][1]
    assert "engine.local" in parts["celery-workers"][1]  # the queue the worker serves
    assert "following the engine" in parts["watcher"][1]


def test_the_engine_turns_red_with_the_reason_when_it_is_unreachable(viewer_client, settings, clean_snapshot):
    settings.DOCKER_HOST = "unix:///nonexistent/docker.sock"
    parts = health(viewer_client)
    assert parts["engine"][0] is False
    assert "Cannot reach the Docker engine local at unix:///nonexistent/docker.sock" in parts["engine"][1]
    assert parts["database"][0] and parts["redis"][0]


def test_redis_turns_red_when_it_is_stopped_and_the_pages_still_work(viewer_client, settings):
    port = free_port()  # nothing listens there: a stopped Redis
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    parts = health(viewer_client)
    assert parts["redis"][0] is False and f"127.0.0.1:{port}" in parts["redis"][1]
    assert parts["celery-workers"] == (False, "cannot tell: Redis, their broker, does not answer")
    assert parts["engine"][0] and parts["database"][0]
    # Without Redis there is no snapshot: pages ask the engine themselves.
    for name, args in (("fleet", []), ("dashboard", ["local"]), ("container_list", ["local"]), ("job_list", [])):
        assert viewer_client.get(reverse(name, args=args)).status_code == 200, name
    assert 'id="count-containers"' in viewer_client.get(reverse("dashboard", args=["local"])).content.decode()


def test_the_workers_turn_red_when_none_runs(viewer_client, clean_snapshot, settings):
    settings.JOB_HEARTBEAT_SECONDS = 5
    parts = health(viewer_client)
    assert parts["celery-workers"] == (False, "none has been heard from in 15 s: queued jobs will wait")
    assert parts["watcher"][0] is False and "not running" in parts["watcher"][1]
    assert parts["redis"][0]


def test_healthz_stays_minimal_whatever_is_down(client, settings, db):
    settings.DOCKER_HOST = "unix:///nonexistent/docker.sock"
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.worker
def test_a_worker_that_stops_or_dies_is_shown_down_within_three_heartbeats(worker, viewer_client, settings):
    """The page does not ask the workers (a broadcast waits a second for their answers): each says it is alive
    beside the snapshot, every JOB_HEARTBEAT_SECONDS (1 s for the tests' workers)."""
    from tests.conftest import Worker, wait_until

    settings.JOB_HEARTBEAT_SECONDS = 1
    ok, reason = health(viewer_client)["celery-workers"]
    assert ok and re.search(r"1 alive — \S+: engine\.local \(heard \d+ s ago\)", reason), reason

    worker.kill(signal.SIGKILL)  # no goodbye: its heartbeat just stops

    def down():
        return health(viewer_client)["celery-workers"] == (
            False,
            "none has been heard from in 3 s: queued jobs will wait",
        )

    wait_until(down, timeout=6, message="the dead worker shown down")
    second = Worker()
    assert wait_until(lambda: health(viewer_client)["celery-workers"][0], timeout=5, message="a new worker shown")
    second.kill(signal.SIGTERM)  # a warm shutdown says goodbye: down at once
    assert health(viewer_client)["celery-workers"][0] is False
    second.log.close()
