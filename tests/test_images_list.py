"""The image list (`docker images`), its filter and sort, an image's details, and the pull form."""

import re
from datetime import datetime, timedelta

import docker
import pytest
from django.urls import reverse

from tests.images_registries import import_image


@pytest.fixture
def hello(registry) -> str:
    """hello-world:latest on the engine, pulled through the mirror as `docker pull hello-world` does."""
    client = docker.from_env()
    for _ in client.api.pull("hello-world", tag="latest", stream=True, decode=True):
        pass
    return client.api.inspect_image("hello-world:latest")["Id"]


def test_it_lists_images_as_docker_images_does(viewer_client, hello, time_machine):
    dangling = import_image(size=1500)
    created = datetime.fromisoformat(docker.from_env().api.inspect_image(hello)["Created"])
    time_machine.move_to(created + timedelta(minutes=50, seconds=20), tick=False)  # so its age is known
    response = viewer_client.get(reverse("image_list", args=["local"]))
    page = response.content.decode()
    rows = {(r.repository, r.tag): r for r in response.context["images"]}
    row = rows[("hello-world", "latest")]
    assert row.short_id == hello.removeprefix("sha256:")[:12] and f"<code>{row.short_id}</code>" in page
    assert any(r.id == dangling and r.repository == "<none>" and r.tag == "<none>" for r in rows.values())
    assert "&lt;none&gt;" in page
    size = docker.from_env().api.inspect_image(hello)["Size"]
    assert f"{size / 1e6:.3g}MB" in page  # the CLI's decimal units
    created_cell = f'<td title="{row.created.isoformat()}">50 minutes ago</td>'  # as `docker images` says it
    assert re.search(rf"<code>{row.short_id}</code></td>\s*{re.escape(created_cell)}", page)
    count = len({r.id for r in response.context["images"]})
    assert f"{count} image{'s' if count != 1 else ''} (" in page


def test_it_filters_as_you_type_with_a_partial(viewer_client, hello):
    import_image("console-tests/filter-me", "v1")
    response = viewer_client.get(
        reverse("image_list", args=["local"]), {"q": "filter-m"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert "<html" not in page and 'id="images"' in page
    assert [(r.repository, r.tag) for r in response.context["images"]] == [("console-tests/filter-me", "v1")]
    assert "1 image (1 row)" in page
    by_id = viewer_client.get(reverse("image_list", args=["local"]), {"q": hello.removeprefix("sha256:")[:8]})
    # Every row of that image (other tests may give it another registry's name too), and nothing else.
    rows = by_id.context["images"]
    assert "hello-world" in {r.repository for r in rows} and {r.id for r in rows} == {hello}
    by_tag = viewer_client.get(reverse("image_list", args=["local"]), {"q": "v1"})
    assert ("console-tests/filter-me", "v1") in [(r.repository, r.tag) for r in by_tag.context["images"]]
    nothing = viewer_client.get(reverse("image_list", args=["local"]), {"q": "no-such-image-here"}).content.decode()
    assert "No images match “no-such-image-here”." in nothing and "0 images (0 rows), 0B in total" in nothing
    full = viewer_client.get(reverse("image_list", args=["local"])).content.decode()
    assert 'hx-trigger="input changed delay:200ms, search"' in full


def test_it_sorts_by_any_column(viewer_client, hello):
    import_image("console-tests/big", "1", size=3_000_000)
    import_image("console-tests/aaa", "1", size=10)
    for column, key in [
        ("repository", lambda r: r.repository),
        ("tag", lambda r: r.tag),
        ("id", lambda r: r.short_id),
        ("size", lambda r: r.size),
    ]:
        up = [
            key(r) for r in viewer_client.get(reverse("image_list", args=["local"]), {"sort": column}).context["images"]
        ]
        down = [
            key(r)
            for r in viewer_client.get(reverse("image_list", args=["local"]), {"sort": column, "dir": "desc"}).context[
                "images"
            ]
        ]
        assert up == sorted(up) and down == sorted(down, reverse=True) and len(up) >= 3
    newest = viewer_client.get(reverse("image_list", args=["local"])).context["images"]
    assert [r.created for r in newest] == sorted((r.created for r in newest), reverse=True)
    page = viewer_client.get(reverse("image_list", args=["local"]), {"sort": "size"}).content.decode()
    # The same idiom as every list: sort and dir, and a click on the sorted column turns it round.
    assert 'aria-sort="ascending"' in page and "?sort=size&amp;dir=desc" in page


def test_it_shows_an_images_details_history_config_and_containers(viewer_client, hello):
    client = docker.from_env()
    container = client.api.create_container("hello-world:latest", name="console-tests-hello-user")
    try:
        response = viewer_client.get(reverse("image_detail", args=["local", hello]))
        page = response.content.decode()
        assert response.status_code == 200
        assert hello in page and "hello-world:latest" in page and "linux/" in page
        assert "/bin/busybox cat /hello.txt" in page  # the Cmd
        history = response.context["image"].history
        assert len(history) >= 2 and any("COPY" in h.created_by for h in history)
        assert history[1].created_by in page
        assert "console-tests-hello-user" in page and container["Id"][:12] in page
        short = viewer_client.get(reverse("image_detail", args=["local", hello.removeprefix("sha256:")[:12]]))
        assert short.status_code == 200
    finally:
        client.api.remove_container(container["Id"])
    assert viewer_client.get(reverse("image_detail", args=["local", "0" * 12])).status_code == 404


def test_the_pull_form_shows_where_pulls_really_go(viewer_client, registry):
    page = viewer_client.get(reverse("image_pull", args=["local"])).content.decode()
    assert f"http://{registry}/" in page  # the engine's Docker Hub mirror
    assert registry in page.split("Insecure registries")[1]
    assert "127.0.0.0/8" in page


def test_a_viewer_sees_no_buttons_that_change_things(viewer_client, operator_client, hello):
    viewer_page = viewer_client.get(reverse("image_list", args=["local"])).content.decode()
    assert "Pull an image" not in viewer_page and "Prune" not in viewer_page and ">remove</a>" not in viewer_page
    operator_page = operator_client.get(reverse("image_list", args=["local"])).content.decode()
    assert "Pull an image" in operator_page and ">remove</a>" in operator_page
