"""The same task delivered twice (the task body run twice at once): the engine pulls once — the
registry serves each blob once — and the audit trail has one outcome for the job."""

import threading
from collections import Counter

import pytest
from django.db import connection

from console.audit.models import AuditEvent
from console.audit.record import record
from console.jobs.models import Job
from console.jobs.runner import execute

pytestmark = pytest.mark.fault


@pytest.mark.django_db(transaction=True)
def test_a_job_run_twice_at_once_pulls_once_and_ends_once(slow_reference):
    link, reference = slow_reference
    job = Job.objects.create(
        kind="image.pull", engine="local", target=reference, params={"reference": reference}, requested_by_name="otto"
    )
    record("otto", "image.pull", reference, "requested", job_id=job.pk)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def deliver() -> None:
        try:
            start.wait()
            execute(job.pk)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures and not any(thread.is_alive() for thread in threads)

    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    blobs = Counter(request for request in link.requests if request.startswith("GET ") and "/blobs/" in request)
    assert blobs and set(blobs.values()) == {1}, blobs  # config and layer, each fetched once
    outcomes = Counter(AuditEvent.objects.filter(job_id=job.pk).values_list("outcome", flat=True))
    assert outcomes == {"requested": 1, "succeeded": 1}
