"""A real Celery worker, over the lab's Redis, runs a queued job to its end."""

import pytest
from django.urls import reverse
from django.utils import timezone

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import wait_until

pytestmark = pytest.mark.foundation


@pytest.mark.worker
def test_a_worker_moves_a_job_from_queued_to_succeeded(worker, operator_client):
    response = operator_client.post(reverse("system_disk_refresh", args=["local"]))
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.requested_by_name == "otto"

    wait_until(lambda: Job.objects.get(pk=job.pk).state == "succeeded", message="the job to succeed")
    job.refresh_from_db()
    assert job.started is not None and job.finished >= job.started
    assert [row["type"] for row in job.result["rows"]] == ["Images", "Containers", "Local Volumes", "Build Cache"]
    assert "docker system df" in job.output
    outcomes = list(AuditEvent.objects.filter(job_id=job.pk).order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["requested", "succeeded"]

    page = operator_client.get(reverse("system", args=["local"])).content.decode()
    assert "Computed" in page and "Build Cache" in page


def test_a_job_page_stops_polling_once_the_job_has_finished(job_runner, operator_client):
    operator_client.post(reverse("system_disk_refresh", args=["local"]))
    job = Job.objects.get()
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, message="the job to finish")
    job.refresh_from_db()
    response = operator_client.get(reverse("job_detail", args=[job.pk]), {"rev": 0}, headers={"HX-Request": "true"})
    assert response.status_code == 286
    assert "succeeded" in response.content.decode()


def test_an_unchanged_job_answers_a_poll_with_its_status_line_only(operator_client, operator):
    job = Job.objects.create(kind="system.df", engine="local", requested_by_name="otto")
    url = reverse("job_detail", args=[job.pk])
    response = operator_client.get(url, {"rev": job.revision, "every": "100ms"}, headers={"HX-Request": "true"})
    assert response.status_code == 204  # queued: not even a clock to move
    Job.objects.filter(pk=job.pk).update(state="running", started=timezone.now(), output="Downloading\n")
    response = operator_client.get(url, {"rev": job.revision, "every": "100ms"}, headers={"HX-Request": "true"})
    page = response.content.decode()  # running: the duration moves, nothing else is sent
    assert response.status_code == 200 and response["HX-Reswap"] == "none"
    assert 'id="job-status" hx-swap-oob="true"' in page and 'id="job-duration"' in page and "Downloading" not in page
    Job.objects.filter(pk=job.pk).update(output="Downloading\n", revision=job.revision + 1)
    response = operator_client.get(url, {"rev": job.revision, "every": "100ms"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Downloading" in response.content.decode()


def test_a_job_page_asks_often_while_its_job_is_young_and_less_often_later(operator_client, time_machine):
    """Most jobs end within seconds while someone watches: their end shows within a tenth of a second."""
    time_machine.move_to(timezone.now(), tick=False)
    job = Job.objects.create(kind="system.df", engine="local", requested_by_name="otto")
    url = reverse("job_detail", args=[job.pk])
    assert 'hx-trigger="every 100ms"' in operator_client.get(url).content.decode()
    time_machine.shift(10)  # queued all along: its poll swaps in the slower one, then answers "nothing new"
    poll = {"rev": job.revision, "every": "100ms"}
    response = operator_client.get(url, poll, headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'hx-trigger="every 250ms"' in response.content.decode()
    poll["every"] = "250ms"
    assert operator_client.get(url, poll, headers={"HX-Request": "true"}).status_code == 204
    time_machine.shift(60)
    response = operator_client.get(url, poll, headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'hx-trigger="every 1s"' in response.content.decode()
