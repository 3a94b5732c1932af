"""A pull is one shared job: live per-layer progress, concurrent requests join it, and it can be cancelled."""

import threading

import docker
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import make_user, wait_until
from tests.images_registries import LAYER


def downloading(job: Job):
    job.refresh_from_db()
    return any(layer["status"] == "Downloading" for layer in job.progress.get("layers", []))


def test_it_shows_live_progress_and_cancels_a_running_pull(job_runner, operator_client, viewer_client, slow_reference):
    link, reference = slow_reference
    response = operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": reference})
    job = Job.objects.get()
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    wait_until(lambda: downloading(job), message="the layer to be downloading")

    # Every signed-in user sees the same live job, bars and all.
    url = reverse("job_detail", args=[job.pk])
    live = viewer_client.get(url, {"rev": 0}, headers={"HX-Request": "true"})
    assert live.status_code == 200
    text = live.content.decode()
    assert "Downloading" in text and "<progress" in text and 'id="pull-overall"' in text
    assert "of 16MB" in text  # the overall bar knows the size
    assert viewer_client.get(url, {"rev": job.revision}, headers={"HX-Request": "true"}).status_code in (200, 204)
    assert 0 < job.progress["current"] < job.progress["total"] and job.progress["total"] >= LAYER

    assert viewer_client.post(reverse("job_cancel", args=[job.pk])).status_code == 403
    operator_client.post(reverse("job_cancel", args=[job.pk]))
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, message="the pull to stop")
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert link.aborted.wait(30), "the engine kept downloading after the pull was cancelled"
    with pytest.raises(docker.errors.ImageNotFound):
        docker.from_env().api.inspect_image(reference)
    events = AuditEvent.objects.filter(job_id=job.pk).order_by("id")
    # The pull's request, the operator's request to cancel it, and the pull's outcome.
    assert [(e.action, e.outcome, e.actor_name) for e in events] == [
        ("image.pull", "requested", "otto"),
        ("job.cancel", "requested", "otto"),
        ("image.pull", "cancelled", "otto"),
    ]


def test_concurrent_pulls_of_one_reference_make_one_job(job_runner, slow_reference):
    link, reference = slow_reference
    users = [make_user(f"op{i}", "Operator") for i in range(6)]
    start = threading.Barrier(len(users))
    answers: list[str] = []

    def ask(user):
        try:
            client = Client()
            client.force_login(user)
            start.wait()
            answers.append(
                client.post(reverse("image_pull_start", args=["local"]), {"reference": reference})["Location"]
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    job = Job.objects.get()
    assert answers == [reverse("job_detail", args=[job.pk])] * len(users)
    assert sorted([job.requested_by_name, *job.joined_by]) == [u.username for u in users]
    events = AuditEvent.objects.filter(action="image.pull", job_id=job.pk)
    assert sorted(events.values_list("outcome", flat=True)) == ["joined"] * 5 + ["requested"]

    wait_until(lambda: downloading(job), message="the layer to be downloading")
    by_tag = [r for r in link.requests if r.endswith("/manifests/1")]
    assert len(by_tag) == 1, link.requests  # one pull reached the registry

    # A later request while it runs joins it too, and the job page names who asked.
    late = make_user("late", "Operator")
    client = Client()
    client.force_login(late)
    page = client.post(
        reverse("image_pull_start", args=["local"]), {"reference": reference}, follow=True
    ).content.decode()
    assert "already being pulled; you joined that pull" in page and "late" in page
    assert Job.objects.count() == 1

    client.post(reverse("job_cancel", args=[job.pk]))
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, message="the pull to stop")
