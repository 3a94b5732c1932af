"""Pulling images as jobs: the tutorial's sequence, bad references, missing tags, and failures said plainly."""

import docker
import pytest
from django.urls import reverse

from console import engine
from console.audit.models import AuditEvent
from console.images.pulling import explain_failure
from console.images.reference import parse
from console.jobs.models import Job
from console.jobs.runner import execute
from tests.conftest import wait_until
from tests.images_registries import forget_repositories


def pull(client, reference: str) -> Job:
    response = client.post(reverse("image_pull_start", args=["local"]), {"reference": reference})
    assert response.status_code == 302, response.content.decode()
    job = Job.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    return job


def finished(job: Job, timeout: float = 60) -> Job:
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=timeout, message=f"job {job.pk} to finish")
    job.refresh_from_db()
    return job


def remove(client, reference: str) -> str:
    response = client.post(reverse("image_remove_confirm", args=["local"]), {"ref": reference})
    assert response.status_code == 200, response.content.decode()
    return response.content.decode()


@pytest.mark.serial  # forgets and pulls the lab's shared images: another pull of their layers would hide the progress
def test_it_follows_the_tutorial_pull_list_and_remove(job_runner, operator_client):
    forget_repositories("httpd")

    # docker pull httpd
    response = operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": "httpd"}, follow=True)
    assert "Using default tag: latest" in response.content.decode()
    first = finished(Job.objects.get())
    assert first.state == "succeeded", first.error
    assert first.target == "httpd:latest"
    assert first.output.startswith("Using default tag: latest\nlatest: Pulling from library/httpd\n")
    assert first.output.rstrip().endswith("docker.io/library/httpd:latest")
    assert first.result["status"] == "Downloaded newer image for httpd:latest"
    assert first.result["digest"].startswith("sha256:") and first.result["id"].startswith("sha256:")

    # docker pull httpd:2.4 -- the same image: nothing to download
    second = finished(pull(operator_client, "httpd:2.4"))
    assert second.state == "succeeded", second.error
    assert second.result["id"] == first.result["id"]
    assert all(layer["status"] == "Already exists" for layer in second.progress["layers"])  # nothing downloaded
    assert second.result["status"] in ("Downloaded newer image for httpd:2.4", "Image is up to date for httpd:2.4")

    # docker pull httpd:2.2 -- five layers, each shown with its own bar
    third = finished(pull(operator_client, "httpd:2.2"))
    assert third.state == "succeeded", third.error
    assert len(third.progress["layers"]) == 5
    assert third.progress["total"] > 24_000_000 and third.progress["current"] == third.progress["total"]
    page = operator_client.get(reverse("job_detail", args=[third.pk]), {"rev": 0}, headers={"HX-Request": "true"})
    live = page.content.decode()
    assert page.status_code == 286
    assert live.count("<progress") == 6  # one per layer and the overall bar
    layers = live.split('id="pull-layers"')[1].split("</table>")[0]
    assert layers.count("Pull complete") + layers.count("Already exists") == 5  # it shares two layers with 2.4
    assert "Downloaded newer image for httpd:2.2" in live
    assert third.result["digest"] in live

    # docker images: httpd latest and 2.4 are two rows of one image
    rows = operator_client.get(reverse("image_list", args=["local"]), {"q": "httpd"}).context["images"]
    short = first.result["id"].removeprefix("sha256:")[:12]
    assert sorted((r.repository, r.tag) for r in rows if r.short_id == short) == [("httpd", "2.4"), ("httpd", "latest")]
    assert any(r.tag == "2.2" for r in rows)

    # docker rmi httpd -- only untags, as httpd:2.4 still names the image
    preview = operator_client.get(reverse("image_remove", args=["local"]), {"ref": "httpd"}).content.decode()
    assert "Untagged: httpd:latest" in preview and "The image stays" in preview
    result = remove(operator_client, "httpd")
    assert "Untagged: httpd:latest" in result and "Deleted:" not in result
    assert engine.image_id("httpd:2.4") == first.result["id"]

    # docker rmi httpd:2.2 -- deletes the image and the layers only it used
    layers_22 = set(docker.from_env().api.inspect_image("httpd:2.2")["RootFS"]["Layers"])
    layers_24 = set(docker.from_env().api.inspect_image("httpd:2.4")["RootFS"]["Layers"])
    preview = operator_client.get(reverse("image_remove", args=["local"]), {"ref": "httpd:2.2"}).content.decode()
    assert "The image is deleted" in preview
    result = remove(operator_client, "httpd:2.2")
    assert "Untagged: httpd:2.2" in result and f"Deleted: {third.result['id']}" in result
    assert result.count("Deleted: sha256:") == 1 + len(layers_22 - layers_24)
    with pytest.raises(engine.NotFound):
        engine.image_id("httpd:2.2")

    events = AuditEvent.objects.filter(job_id=third.pk).order_by("id")
    assert [(e.action, e.outcome) for e in events] == [("image.pull", "requested"), ("image.pull", "succeeded")]
    assert events[1].target_id == third.result["id"] and events[1].params["digest"] == third.result["digest"]
    removal = AuditEvent.objects.filter(action="image.remove", target="httpd:2.2").get()
    assert removal.outcome == "succeeded" and removal.actor_name == "otto"
    assert removal.params["untagged"][0] == "httpd:2.2" and third.result["id"] in removal.params["deleted"]


def test_a_pull_that_ends_at_once_is_shown_ended_on_its_first_page(
    job_runner, operator_client, registry, settings, monkeypatch
):
    settings.JOB_PAGE_WAIT_MS = 10_000  # how long it may take on a busy test machine: the page shows the end
    monkeypatch.setattr("console.jobs.views.UNTAKEN", 10)  # and the in-process runner may be slow to take it
    present = f"{registry}/library/hello-world:latest"
    docker.from_env().images.pull(present)  # the engine has it: only its manifest is asked for
    response = operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": present}, follow=True)
    page = response.content.decode()
    assert 'id="job-state">succeeded<' in page
    assert "hx-get" not in page.split('id="job-live"', 1)[1].split(">", 1)[0]  # nothing left to poll for


def test_a_bad_reference_is_refused_on_the_form_and_nothing_is_queued(operator_client):
    response = operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": "Httpd:2.4"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Image names are lower case: write httpd:2.4, not Httpd:2.4." in page and 'value="Httpd:2.4"' in page
    response = operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": "httpd@sha256:abc"})
    assert "64 lowercase hexadecimal digits" in response.content.decode()
    assert not Job.objects.exists()
    assert not AuditEvent.objects.filter(action="image.pull").exists()


def test_a_viewer_cannot_pull_and_the_refusal_is_recorded(viewer_client):
    response = viewer_client.post(reverse("image_pull_start", args=["local"]), {"reference": "httpd"})
    assert response.status_code == 403
    assert not Job.objects.exists()
    assert AuditEvent.objects.filter(action="image.pull", outcome="denied", actor_name="vera").exists()


def test_a_missing_tag_fails_the_job_with_a_clear_message(job_runner, operator_client, registry):
    job = finished(pull(operator_client, f"{registry}/library/httpd:nope"))
    assert job.state == "failed"
    assert job.error.startswith(f"{registry}/library/httpd:nope was not found: {registry} has no such image or tag.")
    page = operator_client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "has no such image or tag" in page
    events = AuditEvent.objects.filter(job_id=job.pk).order_by("id")
    assert [e.outcome for e in events] == ["requested", "failed"] and "no such image or tag" in events[1].error


def run_here(reference: str) -> Job:
    """Run a pull job in this process, through the real runner (no worker needed for a quick failure)."""
    job = Job.objects.create(
        kind="image.pull", engine="local", target=reference, params={"reference": reference}, requested_by_name="otto"
    )
    execute(job.pk)
    job.refresh_from_db()
    return job


def test_an_unreachable_registry_fails_the_job_with_a_clear_message(operator):
    job = run_here("127.0.0.1:1/team/app:1")
    assert job.state == "failed"
    assert job.error.startswith("The registry 127.0.0.1:1 could not be reached from the engine.")


def test_a_gone_engine_fails_the_job_saying_so(operator, settings):
    settings.DOCKER_HOST = "unix:///nonexistent/docker.sock"
    job = run_here("httpd:2.4")
    assert job.state == "failed"
    assert job.error == "Cannot reach the Docker engine local at unix:///nonexistent/docker.sock: no such socket"
    assert AuditEvent.objects.filter(job_id=job.pk, outcome="failed").exists()


@pytest.mark.parametrize(
    ("engine_message", "says"),
    [
        (
            "failed to register layer: write /var/lib/docker/overlay2/x/diff/big: no space left on device",
            "the engine's disk is full (no space left on device). Free space",
        ),
        ("unauthorized: authentication required", "refused to let this console pull"),
        ('Head "http://r:5000/v2/team/app/manifests/1": no basic auth credentials', "an Admin stores them"),
        (
            "pull access denied for team/app, repository does not exist or may require 'docker login'",
            "the repository does not exist, or it needs credentials",
        ),
    ],
)
def test_failures_the_lab_cannot_cause_are_said_plainly(engine_message, says):
    # The engine's own wording for a full disk or a refused login, as the pull stream reports it.
    assert says in explain_failure(parse("team/app:1"), engine_message)
    assert engine_message in explain_failure(parse("team/app:1"), engine_message)
