"""Registry credentials: Admin-only, encrypted at rest, never shown or logged, and used for pulls."""

import docker
import pytest
from django.urls import reverse

from console.audit.models import AuditEvent
from console.images.models import RegistryCredential
from console.jobs.models import Job
from tests.conftest import wait_until
from tests.images_registries import AuthRegistry, import_image

SECRET = "s3cret-Token-4711"


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    """A registry that lets only alice in, holding team/app:1."""
    registry = AuthRegistry(tmp_path_factory.mktemp("auth-registry"), "alice", SECRET)
    image = import_image(size=5000)
    registry.push(image, "team/app", "1")  # untagging it there also deletes the image from the engine
    yield registry
    registry.stop()


def save(client, host: str, username: str = "alice", secret: str = SECRET):
    return client.post(reverse("registry_save"), {"host": host, "username": username, "secret": secret})


def pulled(client, reference: str) -> Job:
    client.post(reverse("image_pull_start", args=["local"]), {"reference": reference})
    job = Job.objects.filter(target=reference).latest("pk")
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, message="the pull to finish")
    job.refresh_from_db()
    return job


def nowhere_in_the_trail(secret: str) -> bool:
    return all(secret not in event.canonical().decode() for event in AuditEvent.objects.all())


def test_only_admins_manage_credentials(operator_client, viewer_client):
    for client, name in ((operator_client, "otto"), (viewer_client, "vera")):
        assert client.get(reverse("registry_list")).status_code == 403
        assert save(client, "registry.example.com").status_code == 403
        assert AuditEvent.objects.filter(action="registry.credentials", outcome="denied", actor_name=name).count() == 2
    assert not RegistryCredential.objects.exists()


def test_credentials_are_encrypted_and_never_shown_again(admin_client):
    response = save(admin_client, "https://Registry.example.com:5000/")
    assert response.status_code == 302
    credential = RegistryCredential.objects.get()
    assert credential.host == "Registry.example.com:5000" and credential.username == "alice"
    assert SECRET not in credential.secret and credential.secret.startswith("gAAAAA")  # a Fernet token
    page = admin_client.get(reverse("registry_list")).content.decode()
    assert "Registry.example.com:5000" in page and "alice" in page and SECRET not in page
    assert 'type="password"' in page and credential.secret not in page

    save(admin_client, "Registry.example.com:5000", username="bob", secret="other")
    assert RegistryCredential.objects.get().username == "bob"
    admin_client.post(reverse("registry_delete", args=[credential.pk]))
    assert not RegistryCredential.objects.exists()
    events = AuditEvent.objects.filter(action__startswith="registry.").order_by("id")
    actions = list(events.values_list("action", "outcome"))
    assert actions == [
        ("registry.credentials.add", "succeeded"),
        ("registry.credentials.change", "succeeded"),
        ("registry.credentials.delete", "succeeded"),
    ]
    assert nowhere_in_the_trail(SECRET) and nowhere_in_the_trail("other")


def test_a_bad_host_is_refused_and_nothing_is_stored(admin_client):
    response = save(admin_client, "not a host/x")
    assert response.status_code == 400 and "is not a registry host[:port]" in response.content.decode()
    assert SECRET not in response.content.decode()
    assert not RegistryCredential.objects.exists()


@pytest.mark.worker
def test_a_private_registry_is_pulled_from_with_stored_credentials(
    worker, admin_client, operator_client, private, settings
):
    # It listens on 127.0.0.1 and the engine's configuration does not name it: an Admin allows it.
    settings.ALLOWED_REGISTRIES = [private.host]
    reference = f"{private.host}/team/app:1"
    denied = pulled(operator_client, reference)
    assert denied.state == "failed"
    assert f"{private.host} refused to let this console pull {reference}" in denied.error
    assert "no basic auth credentials" in denied.error

    save(admin_client, private.host, secret="wrong")
    wrong = pulled(operator_client, reference)
    assert wrong.state == "failed" and "unauthorized" in wrong.error

    save(admin_client, private.host)
    job = pulled(operator_client, reference)
    assert job.state == "succeeded", job.error
    assert job.result["status"] == f"Downloaded newer image for {reference}"
    assert docker.from_env().api.inspect_image(reference)["Id"] == job.result["id"]
    for text in (job.output, job.error, str(job.params), str(job.progress), worker.output()):
        assert SECRET not in text
    assert nowhere_in_the_trail(SECRET)
