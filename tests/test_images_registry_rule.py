"""The engine is not a port scanner: registries on its own host are refused unless configured; a failed job's
engine text is for whoever asked and Admins; moving a tag to another image needs a confirmation."""

import docker
import pytest
from django.urls import reverse

from console.audit.models import AuditEvent
from console.jobs.models import Job
from console.jobs.runner import execute
from tests.conftest import _client_for, make_user
from tests.containers_lab import unique
from tests.images_registries import forget, import_image
from tests.lab import free_port

pytestmark = pytest.mark.security

REFUSED = "is refused: it is an address on the engine"


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",
        "[::1]:{port}",
        "127.1:{port}",
        "2130706433:{port}",
        "169.254.169.254",
        "[fe80::1]:{port}",
        "0.0.0.0:{port}",
    ],
)
def test_a_pull_from_the_engines_own_host_is_refused_and_nothing_is_queued(operator_client, host):
    reference = f"{host.format(port=free_port())}/x:1"
    response = operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": reference})
    assert response.status_code == 403
    assert REFUSED in response.content.decode()
    assert not Job.objects.exists()
    event = AuditEvent.objects.get(action="image.pull")
    assert event.outcome == "denied" and REFUSED in event.error


def test_the_engines_own_mirror_is_still_pulled_from(operator_client, registry):
    forget(f"{registry}/library/hello-world:latest")
    response = operator_client.post(
        reverse("image_pull_start", args=["local"]), {"reference": f"{registry}/library/hello-world"}
    )
    assert response.status_code == 302
    job = Job.objects.get()
    execute(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error


def test_an_admin_setting_allows_a_registry_on_the_engines_host(operator_client, settings):
    host = f"127.0.0.1:{free_port()}"
    settings.ALLOWED_REGISTRIES = [host]
    response = operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": f"{host}/x:1"})
    assert response.status_code == 302 and Job.objects.get().target == f"{host}/x:1"


def test_a_run_that_would_pull_from_the_engines_own_host_is_refused_before_anything_is_queued(operator_client):
    reference = f"127.0.0.1:{free_port()}/x:1"
    response = operator_client.post("/engines/local/containers/run/", {"image": reference, "restart_policy": "no"})
    assert response.status_code == 403 and REFUSED in response.content.decode()
    assert not Job.objects.exists()
    denied = AuditEvent.objects.get(action="container.run")
    assert (denied.outcome, denied.target) == ("denied", reference) and REFUSED in denied.error


@pytest.fixture
def failed_pull(operator) -> Job:
    """otto's pull from a closed port: the engine's answer says what is (not) listening there."""
    job = Job.objects.create(
        kind="image.pull",
        engine="local",
        target="127.0.0.1:1/team/app:1",
        params={"reference": "127.0.0.1:1/team/app:1"},
        requested_by=operator,
        requested_by_name=operator.username,
    )
    execute(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and "connection refused" in job.error
    return job


def test_a_failed_jobs_engine_error_is_shown_only_to_whoever_asked_and_to_admins(
    failed_pull, operator_client, admin_client, viewer_client
):
    other_operator = _client_for(make_user("olga", "Operator"))
    for client, sees in (
        (operator_client, True),
        (admin_client, True),
        (viewer_client, False),
        (other_operator, False),
    ):
        for url in (reverse("job_detail", args=[failed_pull.pk]), reverse("job_list")):
            page = client.get(url).content.decode()
            assert ("could not be reached from the engine" in page) is sees, url
            assert 'class="badge state-failed"' in page
            if not sees:
                assert "error is shown to whoever asked for the job and to Admins" in page
        # The audit trail and its exports keep to the same rule.
        for url in (
            reverse("audit_list"),
            reverse("audit_export", args=["csv"]),
            reverse("audit_export", args=["jsonl"]),
        ):
            response = client.get(url)
            text = b"".join(response.streaming_content) if response.streaming else response.content
            assert ("could not be reached from the engine" in text.decode()) is sees, url


@pytest.fixture
def two_images():
    """Image A holding a tag of its own (unique: the tests run side by side on one engine), and image B with no
    name but its id."""
    tag = f"{unique('move')}:1"
    old = import_image(*tag.split(":"))
    new = import_image()
    yield old, new, tag
    forget(tag, old, new)


def test_moving_a_tag_from_another_image_needs_a_confirmation_and_is_recorded_with_the_old_id(
    two_images, operator_client
):
    old, new, tag = two_images
    engine = docker.from_env()
    url = reverse("image_tag", args=["local", new])
    response = operator_client.post(url, {"target": tag})
    assert response.status_code == 409
    page = response.content.decode()
    assert f"{tag} is on image" in page and old[7:19] in page and "move it to this image?" in page
    assert engine.images.get(tag).id == old  # nothing moved
    assert not AuditEvent.objects.filter(action="image.tag", outcome="succeeded").exists()

    # a confirmation about some other image is not this one
    response = operator_client.post(url, {"target": tag, "move": new})
    assert response.status_code == 409 and engine.images.get(tag).id == old

    response = operator_client.post(url, {"target": tag, "move": old})
    assert response.status_code == 302
    assert engine.images.get(tag).id == new
    event = AuditEvent.objects.get(action="image.tag", outcome="succeeded")
    assert event.target == tag and event.target_id == new and event.params["moved_from"] == old


def test_tagging_a_free_name_needs_no_confirmation(two_images, operator_client):
    _, new, _ = two_images
    free = f"{unique('move-free')}:1"
    response = operator_client.post(reverse("image_tag", args=["local", new]), {"target": free})
    assert response.status_code == 302
    assert docker.from_env().images.get(free).id == new
    forget(free)
    assert "moved_from" not in AuditEvent.objects.get(action="image.tag").params
