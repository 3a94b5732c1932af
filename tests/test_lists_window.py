"""Lists render a bounded window of rows; filtering reaches the rest, and the counts stay whole."""

import re

import docker
import pytest

from console.audit.record import record
from console.jobs.models import Job

pytest_plugins = ["tests.watcher_process"]


@pytest.mark.serial  # counts or compares what the whole engine holds
def test_the_image_list_shows_a_window_and_says_how_many_more_match(admin_client, settings, registry):
    engine = docker.from_env()
    engine.images.pull("httpd", tag="2.4")
    engine.images.get("httpd:2.4").tag("httpd", "latest")
    engine.images.pull("hello-world", tag="latest")
    # One row per tag, as `docker images`; an untagged (dangling) image is one <none> row.
    rows = sum(len(i.tags) or 1 for i in engine.images.list())
    settings.LIST_WINDOW = 2
    page = admin_client.get("/engines/local/images/").content.decode()
    assert page.count("<tr><td>") == 2
    assert f"Showing the first 2 of {rows}; filter or sort to reach the others." in page
    assert f"({rows} rows)" in page
    # Other tests may leave hello-world under another registry's name: the filter finds those too.
    only = sum(len([t for t in i.tags if "hello-world" in t]) for i in engine.images.list())
    page = admin_client.get("/engines/local/images/", {"q": "hello-world"}).content.decode()
    assert page.count("<tr><td>") == min(only, 2) and ("Showing the first" in page) == (only > 2)


@pytest.mark.serial  # counts or compares what the whole engine holds
def test_the_container_list_shows_a_window_and_says_how_many_more_match(admin_client, settings, registry):
    engine = docker.from_env()
    engine.images.pull("hello-world", tag="latest")
    made = [engine.containers.create("hello-world", name=f"window-{n}") for n in range(3)]
    try:
        total = len(engine.containers.list(all=True))
        settings.LIST_WINDOW = 2
        page = admin_client.get("/engines/local/containers/", {"all": "1"}).content.decode()
        assert page.count('<tr class="state-') == 2
        assert f"Showing the first 2 of {total}; filter or sort to reach the others." in page
        page = admin_client.get("/engines/local/containers/", {"all": "1", "q": "window-1"}).content.decode()
        assert page.count('<tr class="state-') == 1 and "Showing the first" not in page
    finally:
        for container in made:
            container.remove()


def test_the_job_list_says_how_many_more_match(viewer_client, settings):
    for n in range(5):
        Job.objects.create(kind="system.df", engine="local", target=f"disk usage {n}", requested_by_name="otto")
    settings.LIST_WINDOW = 2
    page = viewer_client.get("/jobs/").content.decode()
    assert page.count('<tr id="job-') == 2
    assert "Showing the first 2 of 5; newest first; filter to reach the others." in page
    assert "Showing the first" not in viewer_client.get("/jobs/", {"state": "running"}).content.decode()


def test_the_event_feed_says_how_many_more_match(viewer_client, settings, registry, clean_snapshot):
    engine = docker.from_env()
    engine.images.pull("hello-world", tag="latest")
    made = [engine.containers.create("hello-world", name=f"feed-window-{n}") for n in range(2)]
    try:
        settings.LIST_WINDOW = 1
        page = viewer_client.get("/engines/local/system/", {"type": "container", "action": "create"}).content.decode()
        assert page.count("<tr><td title=") == 1
        assert re.search(r"Showing the first 1 of \d+; newest first; filter to reach the others\.", page)
    finally:
        for container in made:
            container.remove()


def test_the_audit_page_says_which_events_of_how_many_it_shows(viewer_client, db):
    for n in range(60):
        record("ada", "test.window", f"item {n}", "succeeded")
    first = viewer_client.get("/audit/", {"action": "test.window"}).content.decode()
    assert "Showing the first 50 of 60; older and newer pages reach the others." in first
    second = viewer_client.get("/audit/", {"action": "test.window", "page": 2}).content.decode()
    assert "Showing 51–60 of 60; older and newer pages reach the others." in second
