"""The watcher, as a real process, keeps the shared snapshot and records changes made outside the console."""

import os
import subprocess

import docker
import pytest
from django.urls import reverse

from console import snapshot
from console.audit.models import AuditEvent
from console.audit.record import OUTSIDE, record
from console.engine import EngineError
from tests.conftest import wait_until
from tests.engine_proxy import EngineProxy

pytest_plugins = ["tests.watcher_process"]


def docker_cli(*args: str) -> str:
    """The docker command line on the host, as an admin in a shell would use it."""
    done = subprocess.run(["docker", *args], env=os.environ, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def outside_events(action: str, target_id: str = "") -> list[AuditEvent]:
    events = AuditEvent.objects.filter(actor_name=OUTSIDE, action=action)
    return list(events.filter(target_id=target_id) if target_id else events)


@pytest.fixture
def hello(registry):
    docker.from_env().images.pull("hello-world", tag="latest")


@pytest.fixture
def cleanup():
    names: list[str] = []
    yield names
    for name in names:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        subprocess.run(["docker", "rmi", name], capture_output=True)


def test_it_updates_the_snapshot_after_a_docker_cli_change_and_records_it_once(
    start_watcher, hello, admin_client, cleanup
):
    watcher = start_watcher()
    watcher.wait_following()
    version_before = snapshot.version("containers")
    assert version_before > 0

    cleanup.append("made-in-a-shell")
    container_id = docker_cli("run", "-d", "--name", "made-in-a-shell", "hello-world")

    wait_until(
        lambda: any(c.names == "made-in-a-shell" for c in snapshot.containers(all=True)),
        message="the snapshot to show the new container",
    )
    assert snapshot.version("containers") > version_before
    assert "made-in-a-shell" in admin_client.get(reverse("container_list", args=["local"]) + "?all=1").content.decode()

    created = wait_until(lambda: outside_events("container.create", container_id), message="the outside create")
    wait_until(lambda: outside_events("container.start", container_id), message="the outside start")
    assert created[0].target == "made-in-a-shell"
    assert created[0].params["image"] == "hello-world"
    assert created[0].outcome == "succeeded"

    # A new watcher replays the stream from where the last one stopped; nothing is recorded twice.
    watcher.stop()
    again = start_watcher()
    again.wait_following()
    cleanup.append("second-in-a-shell")
    second = docker_cli("create", "--name", "second-in-a-shell", "hello-world")
    wait_until(lambda: outside_events("container.create", second), message="the second outside create")
    assert len(outside_events("container.create", container_id)) == 1
    assert len(outside_events("container.start", container_id)) == 1


@pytest.mark.serial  # any tag or untag on the engine is an outside change to its watcher
def test_it_sees_an_image_removed_in_a_shell_with_the_tag_it_had(start_watcher, hello, admin_client, cleanup):
    docker_cli("tag", "hello-world", "shell-tagged:1")
    cleanup.append("shell-tagged:1")
    watcher = start_watcher()
    watcher.wait_following()
    assert any(r.reference == "shell-tagged:1" for r in snapshot.images())

    docker_cli("rmi", "shell-tagged:1")
    wait_until(lambda: not any(r.reference == "shell-tagged:1" for r in snapshot.images()), message="the rmi")
    untag = wait_until(lambda: outside_events("image.untag"), message="the outside untag")
    assert len(untag) == 1
    assert untag[0].target == "shell-tagged:1"
    assert "shell-tagged" not in admin_client.get(reverse("image_list", args=["local"])).content.decode()


@pytest.mark.serial  # any tag or untag on the engine is an outside change to its watcher
def test_it_does_not_record_a_change_the_console_made_as_an_outside_one(start_watcher, hello, operator, cleanup):
    watcher = start_watcher()
    watcher.wait_following()
    # What a console view records before it asks the engine to tag.
    record(operator, "image.tag", "hello-world:latest → console-tagged:1", "requested")
    docker.from_env().images.get("hello-world").tag("console-tagged", "1")
    cleanup.append("console-tagged:1")
    # Then a change from a shell; once it is recorded, the console's own tag has been judged too.
    docker_cli("tag", "hello-world", "shell-tagged:2")
    cleanup.append("shell-tagged:2")
    wait_until(
        lambda: any(e.target == "shell-tagged:2" for e in outside_events("image.tag")), message="the outside tag"
    )
    assert [e.target for e in outside_events("image.tag")] == ["shell-tagged:2"]


@pytest.mark.serial  # any change on the engine changes the dashboard
def test_the_dashboard_answers_an_unchanged_poll_with_no_content(start_watcher, hello, admin_client, cleanup):
    watcher = start_watcher()
    watcher.wait_following()
    # On its own, the watcher has disk use computed (a job nobody asked for, by "console").
    wait_until(lambda: AuditEvent.objects.filter(action="system.df", actor_name="console").exists(), message="df")
    # Once nothing changes (the watcher's own work settles), a poll with the page's token answers 204.
    token = ""

    def unchanged_poll_is_204() -> bool:
        nonlocal token
        response = admin_client.get(reverse("dashboard", args=["local"]), {"v": token}, headers={"HX-Request": "true"})
        if response.status_code == 204:
            return True
        token = response.content.decode().split('"v": "', 1)[1].split('"', 1)[0]
        return False

    wait_until(unchanged_poll_is_204, timeout=30, interval=1.0, message="an unchanged poll to answer 204")

    cleanup.append("dash-live")
    docker_cli("run", "-d", "--name", "dash-live", f"{os.environ['LAB_REGISTRY']}/library/httpd:2.4")

    def shows_it():
        # Other things may change first (the watcher asks for disk use); a poll renders only on a change.
        nonlocal token
        response = admin_client.get(reverse("dashboard", args=["local"]), {"v": token}, headers={"HX-Request": "true"})
        if response.status_code == 204:
            return False
        token = response.content.decode().split('"v": "', 1)[1].split('"', 1)[0]
        return "dash-live" in response.content.decode()

    wait_until(shows_it, message="the dashboard to show the new container")


def test_it_lists_everything_afresh_when_its_stream_reconnects(start_watcher, hello, settings, cleanup):
    proxy = EngineProxy(os.environ["DOCKER_HOST"]).start()
    settings.DOCKER_HOST = proxy.address
    try:
        start_watcher(DOCKER_HOST=proxy.address).wait_following()
        # The engine goes away; meanwhile someone runs a container in a shell.
        proxy.refusing = True
        proxy.cut()
        wait_until(lambda: not snapshot.watcher()["connected"], message="the watcher to notice")
        with pytest.raises(EngineError):  # pages no longer trust the snapshot: they ask the engine, and say so
            snapshot.containers(all=True)
        before = proxy.count()
        cleanup.append("made-while-away")
        container_id = docker_cli("create", "--name", "made-while-away", "hello-world")
        proxy.refusing = False
        wait_until(lambda: snapshot.watcher()["connected"], message="the watcher to reconnect")
        asked = proxy.since(before)
        for listing in ("/events", "/containers/json", "/images/json", "/info", "/version"):
            assert any(listing in request for request in asked), listing
        assert "made-while-away" in [c.names for c in snapshot.containers(all=True)]
        # The stream resumed where it broke, so the change made meanwhile is in the trail, once.
        wait_until(lambda: outside_events("container.create", container_id), message="the outside create")
        assert len(outside_events("container.create", container_id)) == 1
    finally:
        proxy.stop()


def test_a_container_paused_from_the_console_is_not_an_outside_change_but_unpausing_in_a_shell_is(
    start_watcher, operator_client, registry, cleanup
):
    client = docker.from_env()
    client.images.pull(f"{registry}/library/httpd", tag="2.4")
    cleanup.append("paused-here")
    container = client.containers.run(f"{registry}/library/httpd:2.4", name="paused-here", detach=True)
    start_watcher().wait_following()

    response = operator_client.post(reverse("container_pause", args=["local", container.id]))
    assert response.status_code in (200, 302)
    assert client.containers.get(container.id).status == "paused"
    docker_cli("unpause", "paused-here")

    unpaused = wait_until(lambda: outside_events("container.unpause", container.id), message="the outside unpause")
    assert len(unpaused) == 1 and unpaused[0].target == "paused-here"
    assert outside_events("container.pause", container.id) == []
    assert AuditEvent.objects.filter(action="container.pause", actor_name="otto", outcome="succeeded").count() == 1


def test_a_console_change_makes_the_next_page_list_afresh(
    transactional_db, clean_snapshot, hello, operator_client, cleanup
):
    before = snapshot.generation("images")
    cleanup.append("console-tagged:3")
    image_id = docker.from_env().images.get("hello-world").id
    response = operator_client.post(reverse("image_tag", args=["local", image_id]), {"target": "console-tagged:3"})
    assert response.status_code == 302
    assert snapshot.generation("images") > before
