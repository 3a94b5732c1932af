"""Messages the console did not send, put straight onto the real worker's queue: an unknown task,
run_job with extra, missing or non-integer arguments, and a pickled body. None of them touches
the engine or the database, and the worker keeps working."""

from pathlib import Path

import docker
import pytest
from django.urls import reverse

from console.audit.models import AuditEvent
from console.celery import app
from console.jobs.models import Job
from tests.conftest import wait_until

pytestmark = pytest.mark.hardening

QUEUE = "engine.local"


class Touch:
    """Unpickling this creates a file: a worker that accepted pickle would run it."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def engine_state() -> tuple:
    client = docker.from_env()
    images = sorted(image.id for image in client.images.list(all=True))
    containers = sorted(c.id for c in client.containers.list(all=True))
    return images, containers


@pytest.mark.serial  # counts or compares what the whole engine holds
@pytest.mark.worker
def test_forged_messages_do_nothing_and_the_worker_keeps_working(worker, operator_client, tmp_path):
    # A queued job a forged message might try to start (its id as text, as a boolean, in a list …).
    waiting = Job.objects.create(
        kind="image.pull", engine="local", target="httpd:2.2", params={"reference": "httpd:2.2"}, requested_by_name="x"
    )
    before = engine_state()
    events = AuditEvent.objects.count()
    touched = tmp_path / "unpickled"
    forged = [
        ("console.no_such_task", (waiting.pk,), {}),
        ("console.images.pull", (), {"reference": "httpd:2.2"}),
        ("console.run_job", (waiting.pk, "extra"), {}),
        ("console.run_job", (), {"job_id": waiting.pk, "spec": {"privileged": True}}),
        ("console.run_job", (), {}),
        ("console.run_job", (str(waiting.pk),), {}),
        ("console.run_job", (f"{waiting.pk}; rm -rf /",), {}),
        ("console.run_job", ([waiting.pk],), {}),
        ("console.run_job", ({"kind": "image.pull", "reference": "httpd:2.2"},), {}),
        ("console.run_job", (True,), {}),
        ("console.run_job", (float(waiting.pk),), {}),
        ("console.run_job", (None,), {}),
        ("console.run_job", (waiting.pk + 1000,), {}),
    ]
    sent = [app.send_task(name, args=args, kwargs=kwargs, queue=QUEUE).id for name, args, kwargs in forged]
    sent.append(app.send_task("console.run_job", args=(Touch(touched),), queue=QUEUE, serializer="pickle").id)

    # The worker has taken every message off the queue and said what it did with each.
    wait_until(lambda: all(task_id in worker.output() for task_id in sent[:-1]), message="the worker to see them all")
    wait_until(lambda: "pickle" in worker.output(), message="the worker to refuse the pickled message")
    assert "Received unregistered task of type 'console.no_such_task'" in worker.output()

    assert not touched.exists()
    waiting.refresh_from_db()
    assert waiting.state == "queued" and waiting.started is None
    assert Job.objects.count() == 1
    assert AuditEvent.objects.count() == events
    assert engine_state() == before

    # … and a real job afterwards still runs to success on the same worker.
    response = operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": "hello-world"})
    assert response.status_code == 302
    job = Job.objects.exclude(pk=waiting.pk).get()
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=120, message="the real pull to finish")
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    assert worker.proc.poll() is None
