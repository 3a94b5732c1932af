"""The fleet page (`/`) against the lab's three engines: one row per engine the user can see, read from the
snapshots only, live, and red within seconds when an engine's dockerd stops."""

from __future__ import annotations

import json
import os
import time

import pytest
from django.test import Client
from django.urls import reverse

from console import engine, snapshot
from console.dashboard import views
from console.engines.models import Engine, EngineRole
from console.jobs.models import Job
from tests.conftest import wait_until
from tests.lab import docker_at, engine_start, engine_stop

pytest_plugins = ["tests.watcher_process"]

NAMES = ("local", "tls", "ssh")


SOCKETS = {"local": "DOCKER_HOST", "tls": "LAB_TLS_SOCKET", "ssh": "LAB_SSH_SOCKET"}


def lab_socket(name: str) -> str:
    """The engine's own unix socket, for the docker CLI."""
    return os.environ[SOCKETS[name]]


def cli_json(name: str, what: str) -> dict:
    """`docker info` or `docker version` of one lab engine, from its own socket."""
    done = docker_at(lab_socket(name), what, "--format", "{{json .}}" if what == "info" else "{{json .Server}}")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def clear_snapshots(names=NAMES) -> None:
    r = snapshot.connection()
    for name in names:
        with engine.using(name):
            for key in r.scan_iter(snapshot.key("*")):
                r.delete(key)


@pytest.fixture
def snapshots(fleet):
    """Each lab engine's snapshot listed in-process, and a heartbeat as its watcher would beat it."""
    clear_snapshots()

    def fill(*names: str, **status) -> None:
        for name in names or NAMES:
            with engine.using(name):
                snapshot.refresh(*snapshot.KINDS)
                snapshot.beat(**{"connected": True, "error": "", "latency_ms": 1.5, **status})

    yield fill
    clear_snapshots()


def row_of(page: str, name: str) -> str:
    start = page.index(f'<tr id="engine-{name}"')
    return page[start : page.index("</tr>", start)]


@pytest.mark.serial  # compares counts with what the whole engine holds
def test_it_lists_the_three_engines_with_their_versions_and_counts(snapshots, admin_client):
    snapshots()
    page = admin_client.get(reverse("fleet")).content.decode()
    for name in NAMES:
        row = row_of(page, name)
        info, version = cli_json(name, "info"), cli_json(name, "version")
        assert f'href="{reverse("dashboard", args=[name])}"' in row
        assert 'class="fleet-reachable"' in row and "reachable" in row and "1.5 ms" in row
        assert f"Docker {info['ServerVersion']}" in row and f"API {version['ApiVersion']}" in row
        assert f"{info['OperatingSystem']} · {info['Architecture']}" in row
        assert f"{info['ContainersRunning']} running" in row and f"{info['ContainersStopped']} stopped" in row
        assert f'<td class="num fleet-images">{info["Images"]}</td>' in row
    assert '<span class="badge kind">unix</span>' in row_of(page, "local")
    assert '<span class="badge kind">tcp+tls</span>' in row_of(page, "tls")
    assert '<span class="badge kind">ssh</span>' in row_of(page, "ssh")
    assert "env=prod" in row_of(page, "ssh") and "third lab engine, through sshd" in row_of(page, "ssh")
    assert "3 reachable" in page


def test_it_shows_no_row_of_an_engine_the_user_has_no_role_on(snapshots, viewer, viewer_client, fleet):
    snapshots()
    EngineRole.objects.create(user=viewer, engine=fleet["ssh"], role="")
    page = viewer_client.get(reverse("fleet")).content.decode()
    assert 'id="engine-local"' in page and 'id="engine-tls"' in page
    assert 'id="engine-ssh"' not in page and "/engines/ssh/" not in page and "through sshd" not in page


@pytest.mark.serial  # the tls engine's last event: another test's pull or tag on the shared engine would be it
def test_it_shows_jobs_in_flight_disk_use_and_the_last_event(snapshots, admin, admin_client, registry):
    hello = f"{registry}/library/hello-world:latest"
    assert docker_at(lab_socket("tls"), "pull", hello).returncode == 0
    assert docker_at(lab_socket("tls"), "tag", hello, "fleet-event:1").returncode == 0  # the tls engine's last event
    try:
        snapshots()
        Job.objects.create(kind="image.pull", engine="tls", target="x", requested_by_name="ada")
        Job.objects.create(kind="image.pull", engine="tls", target="y", requested_by_name="ada", state="running")
        Job.objects.create(kind="image.pull", engine="tls", target="z", requested_by_name="ada", state="failed")
        Job.objects.create(
            kind="system.df",
            engine="ssh",
            requested_by_name="ada",
            state="succeeded",
            finished="2026-01-01T00:00:00Z",
            result={"rows": [{"type": "Images", "size": 2_500_000, "reclaimable": 1_000_000}]},
        )
        page = admin_client.get(reverse("fleet")).content.decode()
        assert "2 in flight" in row_of(page, "tls") and 'fleet-jobs"><span class="muted">0<' in row_of(page, "local")
        assert "2.5MB" in row_of(page, "ssh") and "1MB reclaimable" in row_of(page, "ssh")
        assert "not computed" in row_of(page, "tls")
        assert "<code>image tag</code> fleet-event:1" in row_of(page, "tls")
    finally:
        docker_at(lab_socket("tls"), "rmi", "fleet-event:1")


@pytest.mark.serial  # another test's container on the shared engine is a change too
def test_its_live_part_answers_204_until_something_shown_changes(snapshots, admin_client):
    snapshots()
    url = reverse("fleet")
    first = admin_client.get(url, headers={"HX-Request": "true"})
    assert first.status_code == 200 and 'id="fleet-live"' in first.content.decode()
    assert "<h1>" not in first.content.decode()  # the fragment, not the page
    live = first.content.decode().split('"v": "', 1)[1].split('"', 1)[0]
    assert admin_client.get(url, {"v": live}, headers={"HX-Request": "true"}).status_code == 204
    # a new heartbeat, the same engines: nothing the page shows moved (a heartbeat alone: listing the real
    # engine again could see a container the last test left still going away)
    with engine.using("local"):
        snapshot.beat(connected=True, error="", latency_ms=9.9)
    assert admin_client.get(url, {"v": live}, headers={"HX-Request": "true"}).status_code == 204
    Job.objects.create(kind="image.pull", engine="local", target="x", requested_by_name="ada")
    changed = admin_client.get(url, {"v": live}, headers={"HX-Request": "true"})
    assert changed.status_code == 200 and "1 in flight" in changed.content.decode()


def test_it_never_asks_an_engine_even_when_some_are_dead(snapshots, admin_client, monkeypatch):
    snapshots()
    Engine.objects.create(name="gone-unix", url="unix:///nonexistent/docker.sock")
    Engine.objects.create(name="gone-tcp", url="tcp://127.0.0.1:9", insecure=True)
    with engine.using("gone-tcp"):
        snapshot.beat(connected=False, error="Cannot reach the Docker engine gone-tcp: connection refused")

    def no_engine(*args, **kwargs):
        raise AssertionError("the fleet page asked an engine")

    monkeypatch.setattr("console.engine.core.open_client", no_engine)
    monkeypatch.setattr("console.engine.core.client", no_engine)
    started = time.monotonic()
    page = admin_client.get(reverse("fleet")).content.decode()
    assert time.monotonic() - started < 2
    assert 'class="fleet-unwatched"' in row_of(page, "gone-unix") and "not watched" in row_of(page, "gone-unix")
    assert "never listed" in row_of(page, "gone-unix")
    gone = row_of(page, "gone-tcp")
    assert 'class="fleet-unreachable"' in gone and "connection refused" in gone and "insecure tcp" in gone
    assert 'class="fleet-reachable"' in row_of(page, "tls")
    assert "3 reachable" in page and "1 unreachable" in page and "1 not watched" in page


@pytest.mark.fault
@pytest.mark.serial  # stops one of the lab's engines
@pytest.mark.parametrize("stopped", ["ssh", "tls"])
def test_an_engine_whose_dockerd_stops_turns_red_within_seconds_while_the_others_stay_green(
    start_watcher, fleet, admin, stopped
):
    clear_snapshots()
    start_watcher()
    client = Client()
    client.force_login(admin)

    def rows() -> dict[str, str]:
        page = client.get(reverse("fleet")).content.decode()
        return {name: row_of(page, name) for name in NAMES}

    wait_until(lambda: all('"fleet-reachable"' in row for row in rows().values()), message="three engines green")
    engine_stop(stopped)
    try:
        started = time.monotonic()
        shown = wait_until(
            lambda: (found := rows()) and '"fleet-unreachable"' in found[stopped] and found,
            timeout=15,
            message=f"the {stopped} row to turn red",
        )
        print(f"{stopped}: red after {time.monotonic() - started:.1f}s")
        reason = shown[stopped].split('class="error reason">', 1)[1].split("<", 1)[0]
        print(f"{stopped}: {reason}")
        assert reason.strip()
        assert all('"fleet-reachable"' in shown[name] for name in NAMES if name != stopped)
    finally:
        engine_start(stopped)
    clear_snapshots()


def test_a_row_rendered_for_one_viewer_is_shown_to_others_and_changes_as_soon_as_its_engine_does(
    snapshots, admin_client, viewer, viewer_client, fleet
):
    snapshots()
    EngineRole.objects.create(user=viewer, engine=fleet["ssh"], role="")
    admin_page = admin_client.get(reverse("fleet")).content.decode()
    viewer_page = viewer_client.get(reverse("fleet")).content.decode()
    assert row_of(viewer_page, "local") == row_of(admin_page, "local") and 'id="engine-ssh"' not in viewer_page
    snapshots("local", connected=False, error="the dockerd went away")
    for client in (viewer_client, admin_client):
        row = row_of(client.get(reverse("fleet")).content.decode(), "local")
        assert 'class="fleet-unreachable"' in row and "the dockerd went away" in row


def test_the_table_is_drawn_once_for_everyone_who_sees_the_same_engines_and_anew_when_a_row_would_change(
    snapshots, admin, admin_client, fleet, monkeypatch
):
    snapshots()
    drawn = []
    real = views.fleet_rows
    monkeypatch.setattr(views, "fleet_rows", lambda engines: drawn.append(1) or real(engines))
    first = admin_client.get(reverse("fleet")).content.decode()
    other = Client()
    other.force_login(admin)
    assert row_of(other.get(reverse("fleet")).content.decode(), "tls") == row_of(first, "tls")
    with engine.using("local"):  # a ping: nothing a row shows moved but its latency
        snapshot.beat(connected=True, error="", latency_ms=8.8)
    admin_client.get(reverse("fleet"))
    assert len(drawn) == 1  # one drawing, for both viewers and after the ping

    with engine.using("tls"):  # an update check, an edit of an engine, a heartbeat that says it is gone
        snapshot.store_updates({"tags": {"fleet-probe:1": {"state": "available"}}})
    assert "1 update" in row_of(other.get(reverse("fleet")).content.decode(), "tls")
    Engine.objects.filter(name="ssh").update(description="the build box")
    assert "the build box" in row_of(admin_client.get(reverse("fleet")).content.decode(), "ssh")
    snapshots("local", connected=False, error="the dockerd went away")
    assert "the dockerd went away" in row_of(other.get(reverse("fleet")).content.decode(), "local")
    assert len(drawn) == 4


def test_a_job_that_ends_after_another_but_with_an_earlier_end_time_leaves_the_jobs_in_flight_at_once(
    snapshots, admin_client
):
    """Two workers end two jobs at once; the one with the earlier end time commits second."""
    snapshots()
    first, second = (
        Job.objects.create(kind="image.pull", engine="tls", target=t, requested_by_name="ada", state="running")
        for t in ("x", "y")
    )
    assert "2 in flight" in row_of(admin_client.get(reverse("fleet")).content.decode(), "tls")
    Job.objects.filter(pk=second.pk).update(state="succeeded", finished="2026-01-01T00:00:02Z")
    assert "1 in flight" in row_of(admin_client.get(reverse("fleet")).content.decode(), "tls")
    Job.objects.filter(pk=first.pk).update(state="succeeded", finished="2026-01-01T00:00:01Z")
    assert 'fleet-jobs"><span class="muted">0<' in row_of(admin_client.get(reverse("fleet")).content.decode(), "tls")
