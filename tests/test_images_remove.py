"""Tag, remove with a preview (as `docker rmi` would), the 409 conflict with a container, and prune."""

import uuid

import docker
import pytest
from django.urls import reverse

from console.audit.models import AuditEvent
from tests.images_registries import import_image


@pytest.fixture
def name() -> str:
    return f"console-tests/img{uuid.uuid4().hex[:8]}"


def test_it_tags_an_image(operator_client, name):
    image = import_image(name, "1")
    response = operator_client.post(
        reverse("image_tag", args=["local", image]), {"target": f"{name}:stable"}, follow=True
    )
    assert "Tagged" in response.content.decode()
    assert sorted(docker.from_env().api.inspect_image(image)["RepoTags"]) == [f"{name}:1", f"{name}:stable"]
    event = AuditEvent.objects.get(action="image.tag")
    assert (event.target, event.target_id, event.outcome) == (f"{name}:stable", image, "succeeded")


def test_a_bad_tag_is_refused_and_nothing_changes(operator_client, viewer_client, name):
    image = import_image(name, "1")
    response = operator_client.post(reverse("image_tag", args=["local", image]), {"target": f"{name}:Bad Tag"})
    assert response.status_code == 400 and "contains a space" in response.content.decode()
    response = operator_client.post(
        reverse("image_tag", args=["local", image]), {"target": f"{name}@sha256:{'a' * 64}"}
    )
    assert response.status_code == 400 and "only name:tag" in response.content.decode()
    assert viewer_client.post(reverse("image_tag", args=["local", image]), {"target": f"{name}:x"}).status_code == 403
    assert docker.from_env().api.inspect_image(image)["RepoTags"] == [f"{name}:1"]
    assert not AuditEvent.objects.filter(action="image.tag", outcome="succeeded").exists()
    assert AuditEvent.objects.filter(action="image.tag", outcome="denied", actor_name="vera").exists()


def test_removing_a_used_image_is_refused_naming_the_container(operator_client, name):
    image = import_image(name, "1")
    client = docker.from_env()
    container = client.api.create_container(f"{name}:1", command=["/nothing"], name=f"user-of-{name[-11:]}")
    try:
        preview = operator_client.get(reverse("image_remove", args=["local"]), {"ref": f"{name}:1"}).content.decode()
        assert f"user-of-{name[-11:]}" in preview and "(created)" in preview
        assert 'name="force" value="1"' in preview  # force is offered: the container is not running

        response = operator_client.post(reverse("image_remove_confirm", args=["local"]), {"ref": f"{name}:1"})
        page = response.content.decode()
        assert response.status_code == 409
        assert "The engine refused: conflict" in page and container["Id"][:12] in page
        assert f"user-of-{name[-11:]}" in page
        assert client.api.inspect_image(image)["RepoTags"] == [f"{name}:1"]  # nothing changed
        event = AuditEvent.objects.get(action="image.remove")
        assert event.outcome == "failed" and container["Id"][:12] in event.error
    finally:
        client.api.remove_container(container["Id"])
    result = operator_client.post(
        reverse("image_remove_confirm", args=["local"]), {"ref": f"{name}:1"}
    ).content.decode()
    assert f"Untagged: {name}:1" in result and f"Deleted: {image}" in result


def test_removing_by_id_with_several_tags_needs_force(operator_client, name):
    image = import_image(name, "1")
    docker.from_env().api.tag(image, name, "2")
    short = image.removeprefix("sha256:")[:12]
    preview = operator_client.get(reverse("image_remove", args=["local"]), {"ref": short}).content.decode()
    assert "needs force" in preview and f"Untagged: {name}:1" in preview and f"Untagged: {name}:2" in preview
    refused = operator_client.post(reverse("image_remove_confirm", args=["local"]), {"ref": short})
    assert refused.status_code == 409 and "must be forced" in refused.content.decode()
    result = operator_client.post(
        reverse("image_remove_confirm", args=["local"]), {"ref": short, "force": "1"}
    ).content.decode()
    assert f"Untagged: {name}:1" in result and f"Untagged: {name}:2" in result and f"Deleted: {image}" in result
    event = AuditEvent.objects.filter(action="image.remove", outcome="succeeded").get()
    assert event.params["force"] is True and event.params["untagged"] == [f"{name}:1", f"{name}:2"]
    assert event.params["deleted"][0] == image and len(event.params["deleted"]) == 2  # the image and its layer


def test_a_viewer_may_preview_but_not_remove(viewer_client, name):
    image = import_image(name, "1")
    preview = viewer_client.get(reverse("image_remove", args=["local"]), {"ref": f"{name}:1"}).content.decode()
    assert "The image is deleted" in preview and "<button" not in preview.split('id="remove-preview"')[1]
    assert viewer_client.post(reverse("image_remove_confirm", args=["local"]), {"ref": f"{name}:1"}).status_code == 403
    assert docker.from_env().api.inspect_image(image)["RepoTags"] == [f"{name}:1"]


@pytest.mark.serial  # counts or compares what the whole engine holds
def test_prune_removes_dangling_images_and_says_the_space_reclaimed(operator_client, name):
    dangling = import_image(size=2_000_000)
    kept = import_image(name, "1")
    response = operator_client.post(reverse("image_prune", args=["local"]), {"confirm": "yes"})
    page = response.content.decode()
    assert f"Deleted: {dangling}" in page and kept not in page
    assert "Total reclaimed space: " in page and "Total reclaimed space: 0B" not in page
    with pytest.raises(docker.errors.ImageNotFound):
        docker.from_env().api.inspect_image(dangling)
    event = AuditEvent.objects.get(action="image.prune")
    assert event.outcome == "succeeded" and dangling in event.params["deleted"]
    assert event.params["space_reclaimed"] >= 2_000_000
