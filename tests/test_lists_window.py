"""Lists render a bounded window of rows; filtering reaches the rest, and the counts stay whole."""

import docker
import pytest


@pytest.mark.serial  # counts or compares what the whole engine holds
def test_the_image_list_shows_a_window_and_says_how_many_more_match(admin_client, settings, registry):
    engine = docker.from_env()
    engine.images.pull("httpd", tag="2.4")
    engine.images.get("httpd:2.4").tag("httpd", "latest")
    engine.images.pull("hello-world", tag="latest")
    rows = len([t for i in engine.images.list() for t in i.tags])
    settings.LIST_WINDOW = 2
    page = admin_client.get("/images/").content.decode()
    assert page.count("<tr><td>") == 2
    assert f"Showing the first 2 of {rows}; filter or sort to reach the others." in page
    assert f"({rows} rows)" in page
    page = admin_client.get("/images/", {"q": "hello-world"}).content.decode()
    assert page.count("<tr><td>") == 1 and "Showing the first" not in page


@pytest.mark.serial  # counts or compares what the whole engine holds
def test_the_container_list_shows_a_window_and_says_how_many_more_match(admin_client, settings, registry):
    engine = docker.from_env()
    engine.images.pull("hello-world", tag="latest")
    made = [engine.containers.create("hello-world", name=f"window-{n}") for n in range(3)]
    try:
        total = len(engine.containers.list(all=True))
        settings.LIST_WINDOW = 2
        page = admin_client.get("/containers/", {"all": "1"}).content.decode()
        assert page.count('<tr class="state-') == 2
        assert f"Showing the first 2 of {total}; filter or sort to reach the others." in page
        page = admin_client.get("/containers/", {"all": "1", "q": "window-1"}).content.decode()
        assert page.count('<tr class="state-') == 1 and "Showing the first" not in page
    finally:
        for container in made:
            container.remove()
