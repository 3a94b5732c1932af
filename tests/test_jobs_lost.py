"""A job whose worker was killed is marked failed ("worker lost") by the watcher, with no page open.

The job is a real `system.df` job on a real worker. The worker reaches the engine through a
proxy that holds the df request back, as a busy engine walking its filesystems would, so the
job is still running when the worker is SIGKILLed.
"""

import os
import signal
from datetime import timedelta

import pytest
from django.urls import reverse

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import Worker, wait_until
from tests.engine_proxy import EngineProxy

pytest_plugins = ["tests.watcher_process"]


@pytest.fixture
def slow_df_engine():
    proxy = EngineProxy(os.environ["DOCKER_HOST"], hold=r"/system/df").start()
    yield proxy
    proxy.stop()


@pytest.mark.worker
def test_a_job_whose_worker_was_killed_is_marked_lost(
    start_watcher, slow_df_engine, operator_client, _purge_queue, monkeypatch
):
    monkeypatch.setenv("DOCKER_HOST", slow_df_engine.address)
    worker = Worker()
    monkeypatch.undo()
    try:
        operator_client.post(reverse("system_disk_refresh", args=["local"]))
        job = Job.objects.get(kind="system.df")
        wait_until(slow_df_engine.held.is_set, message="the worker to ask the engine for its disk use")
        start_watcher(JOB_LOST_AFTER_SECONDS="3").wait_following()
        # Alive, the worker keeps the job's heartbeat going while the engine is slow, and the
        # watcher, which marks jobs silent for 3 s as lost, leaves it running …
        first_beat = Job.objects.get(pk=job.pk).heartbeat
        wait_until(lambda: Job.objects.get(pk=job.pk).heartbeat > first_beat, message="a heartbeat")
        wait_until(lambda: Job.objects.get(pk=job.pk).heartbeat > first_beat + timedelta(seconds=4), timeout=60)
        assert Job.objects.get(pk=job.pk).state == "running"
        worker.kill(signal.SIGKILL)
    finally:
        worker.kill(signal.SIGKILL)
        worker.log.close()
    # … killed, its heartbeat stops, and the watcher (not a page: none is open) marks the job lost.
    last_beat = Job.objects.get(pk=job.pk).heartbeat
    wait_until(lambda: Job.objects.get(pk=job.pk).state == "failed", message="the job to be marked lost")
    job.refresh_from_db()
    assert job.heartbeat == last_beat
    assert job.error.startswith("Worker lost")
    assert job.finished is not None
    page = operator_client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "Worker lost" in page and 'id="job-state">failed<' in page
    outcomes = list(AuditEvent.objects.filter(job_id=job.pk).order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["requested", "failed"]
