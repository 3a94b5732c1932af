"""The lab's dockerd stopped for real: every page still answers with the engine-unreachable banner,
a job asked for meanwhile fails saying why (and is kept), and the console recovers when it is back."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import wait_until

# It stops a part of the lab every other test shares: run alone, after the parallel pass.
pytestmark = [pytest.mark.fault, pytest.mark.serial]


def engine_answers() -> bool:
    return subprocess.run(["docker", "version"], capture_output=True, timeout=30).returncode == 0


def gone(pid: int) -> bool:
    """Ended: no process, or a zombie its parent (the lab) has not reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


class StoppedEngine:
    """Stops the lab's dockerd with SIGTERM; `start()` runs it again with the same command line."""

    def __init__(self) -> None:
        self.root = Path(os.environ["LAB_ROOT"])
        pid = int((self.root / "docker.pid").read_text())
        self.argv = [part.decode() for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if part]
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: gone(pid) and not engine_answers(), timeout=90, message="dockerd to stop")
        self.running = False

    def start(self) -> None:
        if self.running:
            return
        with open(self.root / "dockerd.log", "ab") as log:
            subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(engine_answers, timeout=90, message="dockerd to answer again")
        self.running = True
        cache.clear()  # the console's few-seconds memory of "unreachable"


@pytest.fixture
def stopped_engine():
    engine = None
    try:
        engine = StoppedEngine()
        cache.clear()
        yield engine
    finally:
        if engine is not None:
            engine.start()
        elif not engine_answers():  # stopping failed half-way: the following tests need an engine
            pytest.fail("the lab engine stopped answering")


def test_with_the_engine_stopped_every_page_answers_and_a_job_fails_saying_why(
    job_runner,
    lab,
    admin_client,
    operator_client,
    stopped_engine_after_setup,
):
    container, image_id, engine = stopped_engine_after_setup
    full_pages = [
        reverse("dashboard", args=["local"]),
        reverse("image_list", args=["local"]),
        reverse("image_pull", args=["local"]),
        reverse("image_detail", args=["local", image_id]),
        reverse("image_remove", args=["local"]) + "?ref=httpd:2.4",
        reverse("container_list", args=["local"]),
        reverse("container_list", args=["local"]) + "?all=1",
        reverse("container_run", args=["local"]),
        reverse("container_detail", args=["local", container]),
        reverse("container_logs_download", args=["local", container]),
        reverse("system", args=["local"]),
    ]
    # Pages that span engines answer too, without one engine's banner (the fleet page shows it red).
    for url in (
        reverse("fleet"),
        reverse("job_list"),
        reverse("audit_list"),
        reverse("user_list"),
        reverse("registry_list"),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200 and 'id="engine-banner"' not in response.content.decode(), url
    for url in full_pages:
        response = admin_client.get(url, follow=True)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert 'id="engine-banner"' in page and "Cannot reach the Docker engine" in page, url
    hx = {"HTTP_HX_REQUEST": "true"}
    partials = [
        reverse("dashboard", args=["local"]),
        reverse("image_list", args=["local"]),
        reverse("container_list", args=["local"]),
        reverse("container_logs", args=["local", container]),
        reverse("container_logs", args=["local", container]) + "?after=1",
        reverse("container_stats", args=["local", container]),
        reverse("container_top", args=["local", container]),
        reverse("system_events", args=["local"]),
    ]
    for url in partials:
        assert admin_client.get(url, **hx).status_code < 500, url

    # Actions say the engine is away, on the page they come back to.
    response = operator_client.post(reverse("container_stop", args=["local", container]), {"grace": "0"}, follow=True)
    assert response.status_code == 200 and "Cannot reach the Docker engine" in response.content.decode()
    response = operator_client.post(reverse("image_remove_confirm", args=["local"]), {"ref": "httpd:2.4"}, follow=True)
    assert response.status_code == 200 and "Cannot reach the Docker engine" in response.content.decode()
    response = operator_client.post(reverse("container_exec", args=["local", container]), {"command": "ls"})
    assert response.status_code < 500 and "Cannot reach the Docker engine" in response.content.decode()

    # A pull asked for now is queued, then fails with the reason; the row and its audit events stay.
    assert (
        operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": "hello-world"}).status_code
        == 302
    )
    job = Job.objects.get(kind="image.pull")
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, message="the pull to end")
    job.refresh_from_db()
    assert job.state == "failed" and job.error.startswith("Cannot reach the Docker engine local at ")
    page = operator_client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "Cannot reach the Docker engine" in page
    outcomes = list(AuditEvent.objects.filter(job_id=job.pk).order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["requested", "failed"]

    # Back again: the banner goes, and the same worker pulls.
    engine.start()
    assert 'id="engine-banner"' not in admin_client.get(reverse("dashboard", args=["local"])).content.decode()
    assert (
        operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": "hello-world"}).status_code
        == 302
    )
    again = Job.objects.exclude(pk=job.pk).get(kind="image.pull")
    wait_until(lambda: Job.objects.get(pk=again.pk).is_finished, timeout=120, message="the pull to end")
    assert Job.objects.get(pk=again.pk).state == "succeeded"


@pytest.fixture
def stopped_engine_after_setup(lab, request):
    """An exited container and its image, made while the engine ran; then the engine stopped."""
    container = lab.hello("faults")
    image_id = container.image.id
    engine = request.getfixturevalue("stopped_engine")
    return container.id, image_id, engine
