"""A worker SIGKILLed in the middle of a pull: the job ends "failed" (worker lost) once it has been silent
for the configured window, as the watcher (the one reaper; pages only read) finds it; it never stays
"running", it has exactly one outcome, and a pull of the same image afterwards succeeds.

(tests/test_jobs_lost.py covers the watcher marking a killed `system df` job lost while a worker is slow.)"""

import signal
from collections import Counter

import pytest
from django.urls import reverse

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import Worker, wait_until

pytestmark = pytest.mark.fault

pytest_plugins = ["tests.watcher_process"]
LOST_AFTER = 3


@pytest.mark.worker
def test_a_pull_whose_worker_is_killed_ends_as_worker_lost_once(worker, start_watcher, operator_client, slow_reference):
    link, reference = slow_reference
    assert (
        operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": reference}).status_code == 302
    )
    job = Job.objects.get()
    wait_until(
        lambda: Job.objects.get(pk=job.pk).progress.get("current", 0) > 0, message="layer bytes to arrive", timeout=60
    )
    worker.kill(signal.SIGKILL)
    wait_until(link.aborted.is_set, message="the engine to drop the pull once nobody reads it")

    # The watcher's timer marks it once it has been silent long enough.
    watcher = start_watcher(JOB_LOST_AFTER_SECONDS=str(LOST_AFTER))
    watcher.wait_following()
    wait_until(
        lambda: Job.objects.get(pk=job.pk).state != "running",
        timeout=LOST_AFTER + 30,
        message="the job to be marked lost",
    )
    watcher.stop()
    job.refresh_from_db()
    assert job.state == "failed" and job.error.startswith("Worker lost")
    assert "Worker lost" in operator_client.get(reverse("job_detail", args=[job.pk])).content.decode()
    outcomes = Counter(AuditEvent.objects.filter(job_id=job.pk).values_list("outcome", flat=True))
    assert outcomes == {"requested": 1, "failed": 1}

    # A new worker neither revives the lost job nor records it again; pulling the image again works
    # (the link is fast again: this pull only has to succeed, not to last).
    link.rate = 1_000_000_000
    again_worker = Worker()
    try:
        assert (
            operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": reference}).status_code
            == 302
        )
        again = Job.objects.exclude(pk=job.pk).get(kind="image.pull")
        wait_until(lambda: Job.objects.get(pk=again.pk).is_finished, timeout=120, message="the second pull")
        assert Job.objects.get(pk=again.pk).state == "succeeded"
    finally:
        again_worker.kill(signal.SIGTERM)
        again_worker.log.close()
    assert Job.objects.get(pk=job.pk).state == "failed"
    assert AuditEvent.objects.filter(job_id=job.pk).count() == 2
