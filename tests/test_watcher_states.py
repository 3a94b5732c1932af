"""What the shared view shows is as of now: status texts age with the page, and an older listing never
replaces a newer one."""

from __future__ import annotations

import time
import uuid

import docker
import pytest

from console import engine, snapshot
from console.engine.containers import human_duration, status_now

pytest_plugins = ["tests.watcher_process"]


@pytest.mark.parametrize(
    ("status", "elapsed", "now"),
    [
        ("Up Less than a second", 10, "Up 10 seconds"),
        ("Up 5 seconds (healthy)", 10, "Up 15 seconds (healthy)"),
        ("Exited (0) Less than a second ago", 10, "Exited (0) 10 seconds ago"),
        ("Exited (137) About a minute ago", 120, "Exited (137) 3 minutes ago"),
        ("Up 2 hours (Paused)", 3600, "Up 3 hours (Paused)"),
        ("Restarting (1) 3 seconds ago", 0, "Restarting (1) 3 seconds ago"),
        ("Created", 100, "Created"),
        ("Removal In Progress", 100, "Removal In Progress"),
    ],
)
def test_a_status_text_is_said_as_of_now(status, elapsed, now):
    assert status_now(status, elapsed) == now


def test_durations_read_as_docker_says_them_in_lower_case():
    said = [human_duration(s) for s in (0, 1, 59, 60, 3599, 3600, 7200, 3 * 86400, 20 * 86400, 90 * 86400)]
    assert said == [
        "less than a second",
        "1 second",
        "59 seconds",
        "about a minute",
        "59 minutes",
        "about an hour",
        "2 hours",
        "3 days",
        "2 weeks",
        "3 months",
    ]


def test_the_container_list_says_how_long_ago_a_container_exited_as_of_the_page(
    admin_client, registry, clean_snapshot, transactional_db
):
    client = docker.from_env()
    name = f"aged-{uuid.uuid4().hex[:6]}"
    client.containers.run(f"{registry}/library/hello-world:latest", name=name)
    try:
        snapshot.beat(connected=True)  # as a watcher following the engine does
        snapshot.refresh("containers", "info")
        assert "Exited (0) Less than a second ago" in str(client.api.containers(all=True, filters={"name": name}))
        # The listing was made 10 s ago (the clock moved, not the test asleep).
        snapshot.connection().hset(snapshot.key("kind", "containers"), "stored", time.time() - 10)
        page = admin_client.get("/engines/local/containers/?all=1").content.decode()
        row = page[page.index(name) :][:2000]
        assert "Exited (0) 10 seconds ago" in row or "Exited (0) 11 seconds ago" in row, row
        assert "Less than a second" not in row
    finally:
        client.api.remove_container(name, force=True)


def test_a_listing_that_started_earlier_never_replaces_a_later_one(clean_snapshot, db):
    with engine.using("local"):
        newer = snapshot.store("containers", [{"Id": "b", "State": "exited"}], 0, started=time.time())
        older = snapshot.store("containers", [{"Id": "b", "State": "running"}], 0, started=time.time() - 5)
        assert older == newer
        snapshot.beat(connected=True)
        assert snapshot.peek("containers")[0] == [{"Id": "b", "State": "exited"}]
