"""The dashboard against the lab engine, and the banner when the engine is away."""

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.foundation

PAGES = [
    "/engines/local/",
    "/engines/local/images/",
    "/engines/local/containers/",
    "/engines/local/containers/?all=1",
    "/engines/local/system/",
]
# Pages that span engines: one engine's trouble is not theirs (the fleet page shows it in its row).
SHARED_PAGES = ["/jobs/", "/audit/", "/users/"]


@pytest.fixture(autouse=True)
def _fresh_engine_status():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.serial  # counts or compares what the whole engine holds
def test_the_dashboard_shows_the_engine_version_and_counts(admin_client, registry):
    import docker

    client = docker.from_env()
    client.images.pull("hello-world", tag="latest")
    client.containers.run("hello-world", name="dash-exited")
    try:
        version = client.version()["Version"]
        info = client.info()
        page = admin_client.get("/engines/local/").content.decode()
        assert f"Docker {version}" in page
        assert f'id="count-containers">{info["Containers"]}<' in page
        assert f"{info['ContainersRunning']} running" in page
        assert f"{info['ContainersStopped']} stopped" in page
        assert info["ContainersStopped"] >= 1
        assert f'id="count-images">{info["Images"]}<' in page
        assert "unreachable" not in page
    finally:
        client.containers.get("dash-exited").remove()


@pytest.mark.parametrize("address", ["unix:///nonexistent/docker.sock", "tcp://127.0.0.1:9"])
def test_every_page_says_when_the_engine_is_unreachable(admin_client, settings, address):
    settings.DOCKER_HOST = address
    for page in PAGES:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        text = response.content.decode()
        assert 'id="engine-banner"' in text, page
        assert "Engine “local” unreachable" in text, page
        assert f"Cannot reach the Docker engine local at {address}" in text, page
    for page in SHARED_PAGES:
        response = admin_client.get(page)
        assert response.status_code == 200 and 'id="engine-banner"' not in response.content.decode(), page


def test_the_image_list_matches_docker_images(admin_client, registry):
    import docker

    client = docker.from_env()
    client.images.pull("httpd", tag="2.4")
    client.images.get("httpd:2.4").tag("httpd", "latest")
    page = admin_client.get("/engines/local/images/").content.decode()
    short = client.images.get("httpd:2.4").short_id.removeprefix("sha256:")
    # two tags of one image are two rows with the same id
    assert page.count(f"<code>{short}</code>") == 2
    assert "<td>httpd</td><td>2.4</td>" in page
    assert "<td>httpd</td><td>latest</td>" in page
