"""Only the engine operations the console offers are reachable: a name typed into a form goes into the
engine's URL as itself, so `../volumes/x` as an image to remove cannot delete a volume or a network, and
a request body is never handed to the engine."""

import contextlib
import json
import uuid

import docker
import docker.errors
import pytest
from django.urls import reverse

from console.audit.models import AuditEvent
from console.jobs.models import Job

pytestmark = pytest.mark.hardening


@pytest.fixture
def victims():
    """A volume and a network the console offers no way to delete."""
    client = docker.from_env()
    volume = client.volumes.create(f"victim-{uuid.uuid4().hex[:8]}")
    network = client.networks.create(f"victim-{uuid.uuid4().hex[:8]}")
    yield client, volume, network
    for thing in (volume, network):
        with contextlib.suppress(docker.errors.NotFound):
            thing.remove()


def test_an_image_reference_cannot_climb_into_other_engine_objects(operator_client, victims):
    client, volume, network = victims
    for ref in (f"../volumes/{volume.name}", f"../networks/{network.name}", f"x/../../volumes/{volume.name}"):
        response = operator_client.post(reverse("image_remove_confirm", args=["local"]), {"ref": ref}, follow=True)
        assert response.status_code == 200
        assert f"No such object: {ref}" in response.content.decode()
        assert AuditEvent.objects.filter(action="image.remove", target=ref, outcome="failed").exists()
        preview = operator_client.get(reverse("image_remove", args=["local"]), {"ref": ref})
        assert preview.status_code == 404
    client.volumes.get(volume.name)  # both still there
    client.networks.get(network.id)


def test_container_ids_cannot_climb_either(operator_client, victims):
    client, volume, _ = victims
    response = operator_client.post(
        reverse("container_bulk", args=["local"]),
        {"action": "remove", "ids": [f"../volumes/{volume.name}"], "force": "1", "confirm": "yes"},
        follow=True,
    )
    assert response.status_code == 200 and "No such object" in response.content.decode()
    client.volumes.get(volume.name)


def test_a_json_body_is_never_forwarded_to_the_engine(operator_client, admin_client):
    body = {"Image": "hello-world", "HostConfig": {"Privileged": True, "Binds": ["/:/host"]}, "image": "hello-world"}
    for client in (operator_client, admin_client):
        response = client.post(
            reverse("container_run", args=["local"]), json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
    assert not Job.objects.exists()
