"""Redis stopped for real: asking for a job says so clearly, the trail keeps the request
as failed, and pages that do not need Redis keep working."""

import contextlib
import os
import subprocess

import pytest
import redis
from django.urls import reverse

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import wait_until

# It stops a part of the lab every other test shares: run alone, after the parallel pass.
pytestmark = [pytest.mark.fault, pytest.mark.serial]


@pytest.fixture
def redis_stopped():
    port = os.environ["LAB_REDIS_PORT"]
    client = redis.Redis(port=int(port))
    with contextlib.suppress(redis.ConnectionError):  # shutting down drops the connection
        client.shutdown(nosave=True)
    wait_until(lambda: _down(client), message="redis to stop")
    yield
    subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            port,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            os.environ["LAB_ROOT"],
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_until(lambda: not _down(client), message="redis to come back")


def _down(client) -> bool:
    try:
        client.ping()
        return False
    except redis.ConnectionError:
        return True


@pytest.mark.django_db(transaction=True)
def test_a_job_asked_for_while_redis_is_down_fails_clearly_and_is_kept(redis_stopped, operator_client):
    response = operator_client.post(reverse("system_disk_refresh", args=["local"]), follow=True)
    assert response.status_code == 200
    job = Job.objects.get()
    assert job.state == "failed"
    assert "refused the connection" in job.error
    assert "refused the connection" in response.content.decode()
    outcomes = list(AuditEvent.objects.filter(job_id=job.pk).order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["requested", "failed"]
    for page in (
        "/",
        "/jobs/",
        f"/jobs/{job.pk}/",
        "/audit/",
        "/engines/local/images/",
        "/engines/local/containers/",
        "/engines/local/system/",
    ):
        assert operator_client.get(page).status_code == 200, page
