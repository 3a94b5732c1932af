"""Engine events as a live feed on the System page, filterable by type and action."""

import contextlib
import html
import json
import re

import docker
import pytest
from django.urls import reverse

from console.system import views
from tests.conftest import wait_until

pytest_plugins = ["tests.watcher_process"]
HX = {"HX-Request": "true"}


def rows(html: str) -> list[tuple[str, str, str]]:
    """(type, action, object) of each event row."""
    return re.findall(
        r"<tr><td title=\"[^\"]+\">[^<]+</td><td>(\w+)</td><td><code>([\w-]+)</code></td>\s*<td>([^<]*)</td>", html
    )


@pytest.fixture
def hello(registry):
    client = docker.from_env()
    client.images.pull("hello-world", tag="latest")
    yield client
    with contextlib.suppress(docker.errors.NotFound):
        client.containers.get("feed-made").remove(force=True)


def test_the_feed_shows_what_happened_on_the_engine_filtered_by_type_and_action(viewer_client, hello, clean_snapshot):
    hello.containers.create("hello-world", name="feed-made")
    everything = rows(viewer_client.get(reverse("system", args=["local"])).content.decode())
    assert ("container", "create", "feed-made") in everything
    assert any(kind == "image" for kind, _, _ in everything)  # the pull

    containers = rows(
        viewer_client.get(reverse("system_events", args=["local"]), {"type": "container"}, headers=HX).content.decode()
    )
    assert ("container", "create", "feed-made") in containers
    assert {kind for kind, _, _ in containers} == {"container"}

    creates = rows(
        viewer_client.get(reverse("system", args=["local"]), {"type": "container", "action": "create"}).content.decode()
    )
    assert creates and {(k, a) for k, a, _ in creates} == {("container", "create")}
    assert (
        rows(viewer_client.get(reverse("system", args=["local"]), {"action": "no-such-action"}).content.decode()) == []
    )


@pytest.mark.serial  # any container event on the engine changes the feed
def test_the_feed_is_live_and_answers_an_unchanged_poll_with_no_content(
    viewer_client, hello, start_watcher, clean_snapshot
):
    start_watcher().wait_following()
    first = viewer_client.get(reverse("system_events", args=["local"]), {"type": "container"}, headers=HX)
    token = re.search(r"\"v\": \"([^\"]+)\"", first.content.decode()).group(1)
    poll = {"type": "container", "v": token}
    assert viewer_client.get(reverse("system_events", args=["local"]), poll, headers=HX).status_code == 204

    hello.containers.create("hello-world", name="feed-made")

    def new_rows():
        response = viewer_client.get(reverse("system_events", args=["local"]), poll, headers=HX)
        return response.status_code == 200 and rows(response.content.decode())

    assert ("container", "create", "feed-made") in wait_until(new_rows, message="the feed to show the create")


def test_filter_text_cannot_add_a_value_to_the_feed_poll(viewer_client, hello, start_watcher, clean_snapshot):
    start_watcher().wait_following()  # with the snapshot followed, the poll's token names the filter
    action = '","x":"injected'
    page = viewer_client.get(reverse("system", args=["local"]), {"action": action}).content.decode()
    vals = json.loads(html.unescape(re.search(r"id=\"events-feed\"[^>]*hx-vals='([^']*)'", page).group(1)))
    assert list(vals) == ["v"] and action in vals["v"]


@pytest.mark.serial  # any event on the engine is a new feed
def test_the_feed_is_drawn_once_for_everyone_who_sees_the_same_snapshot_and_anew_with_an_event(
    viewer_client, admin_client, hello, start_watcher, clean_snapshot, monkeypatch
):
    start_watcher().wait_following()
    drawn = []
    real = views._event_feed
    monkeypatch.setattr(views, "_event_feed", lambda request: drawn.append(1) or real(request))

    def page(client=viewer_client) -> list[tuple[str, str, str]]:
        return rows(client.get(reverse("system", args=["local"])).content.decode())

    assert page(viewer_client) == page(admin_client) and len(drawn) == 1
    hello.containers.create("hello-world", name="feed-made")
    wait_until(lambda: ("container", "create", "feed-made") in page(), message="the page to show the create")
    assert len(drawn) >= 2
