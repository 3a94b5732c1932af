"""`manage.py watch` on a fleet: one watcher per Engine row, following the table as it changes, each keeping
its own engine's snapshot and telling its own engine's outside changes apart from the console's."""

from __future__ import annotations

import os
import uuid

import pytest

from console import engine, snapshot
from console.audit.models import AuditEvent
from console.audit.record import OUTSIDE
from console.engines.models import Engine
from console.jobs.models import Job
from tests.conftest import wait_until
from tests.lab import docker_at
from tests.watcher_process import following, status_of

pytest_plugins = ["tests.watcher_process"]
pytestmark = pytest.mark.slow


def heartbeat_key(name: str) -> str:
    with engine.using(name):
        return snapshot.key("watcher")


def test_an_added_engine_is_watched_within_seconds_and_a_removed_one_is_dropped(watch):
    first = following(watch, "local", "tls", "ssh")
    for name in ("local", "tls", "ssh"):
        with engine.using(name):
            info = snapshot.peek("info")
            assert info is not None and info[0]["Name"]  # each engine's own listing, kept under its name
    assert len({first[name]["host"] for name in first}) == 3

    # Another name for the local engine's socket: a fourth row, watched without restarting the others.
    Engine.objects.create(name="again", url=os.environ["DOCKER_HOST"], description="the local engine again")
    following(watch, "again", timeout=30)
    with engine.using("again"):
        assert snapshot.peek("info") is not None
        assert snapshot.peek("containers") is not None

    # Removed: their watchers stop and take their heartbeats with them (well before these would expire);
    # the others go on beating.
    Engine.objects.filter(name__in=("tls", "ssh")).delete()
    r = snapshot.connection()
    try:
        wait_until(
            lambda: r.get(heartbeat_key("tls")) is None and r.get(heartbeat_key("ssh")) is None,
            timeout=snapshot.WATCHER_TTL / 2,
            message="the tls and ssh watchers' heartbeats to go",
        )
    except AssertionError as exc:
        left = {name: r.get(heartbeat_key(name)) for name in ("tls", "ssh")}
        raise AssertionError(f"{exc}; left: {left}; the watcher said:\n{watch.output()}") from None
    assert "Stopped watching the engine tls." in watch.output()
    assert "Stopped watching the engine ssh." in watch.output()
    before = {name: status_of(name)["at"] for name in ("local", "again")}
    wait_until(
        lambda: all((status_of(name) or {}).get("at", 0) > before[name] for name in before),
        timeout=30,
        message="the other watchers to beat again",
    )
    assert all(status_of(name)["connected"] for name in before)
    assert watch.output().count("Watching the engine local ") == 1  # never restarted
    assert watch.proc.poll() is None


def outside_events(target: str):
    return AuditEvent.objects.filter(actor_name=OUTSIDE, action="container.create", target=target)


def test_an_outside_change_on_one_engine_is_recorded_for_it_even_when_the_console_made_a_namesake_elsewhere(
    watch, job_runner, operator_client
):
    following(watch, "local", "tls", "ssh")
    name = f"fleet-outside-{uuid.uuid4().hex[:8]}"
    ssh_socket = os.environ["LAB_SSH_SOCKET"]
    try:
        # The console runs a container named `name` on local …
        response = operator_client.post(
            "/engines/local/containers/run/", {"image": "hello-world", "name": name, "restart_policy": "no"}
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        wait_until(lambda: Job.objects.filter(state="succeeded", engine="local").exists(), message="the run")
        # … and someone makes one of the same name on ssh with the docker CLI.
        assert docker_at(ssh_socket, "pull", "hello-world", timeout=60).returncode == 0
        made = docker_at(ssh_socket, "create", "--name", name, "hello-world", timeout=60)
        assert made.returncode == 0, made.stderr.decode()
        assert docker_at(ssh_socket, "create", "--name", f"{name}-x", "hello-world", timeout=60).returncode == 0

        # One no console action named: recorded for ssh.
        wait_until(
            lambda: outside_events(f"{name}-x").filter(engine="ssh").exists(),
            timeout=30,
            message="the outside create of a name the console never used to be recorded",
        )

        event = wait_until(
            lambda: outside_events(name).filter(engine="ssh").first(),
            timeout=30,
            message="the outside create on ssh to be recorded",
        )
        assert event.target_id == made.stdout.decode().strip()
        assert event.params["image"] == "hello-world"
        # The console's own run is not an outside change, on local or anywhere.
        assert list(outside_events(name).values_list("engine", flat=True)) == ["ssh"]
        trail = operator_client.get("/audit/", {"engine": "ssh"}).content.decode()
        assert name in trail and OUTSIDE in trail
    finally:
        docker_at(ssh_socket, "rm", "-f", name, f"{name}-x", timeout=60)
        docker_at(os.environ["DOCKER_HOST"], "rm", "-f", name, timeout=60)
