"""The registry stops in the middle of a pull: the engine reports it inside its 200 stream (an errorDetail),
and the job fails saying the registry could not be reached; nothing reports success."""

import contextlib
import socket
import threading

import pytest
from django.urls import reverse

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import wait_until
from tests.images_registries import SlowRegistry, seed_image

pytestmark = pytest.mark.fault


class StoppableRegistry(SlowRegistry):
    """The slow link, which can also stop at once: open connections dropped, new ones refused."""

    def __init__(self, upstream: str, rate: int):
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        super().__init__(upstream, rate)

    def _handler(self):
        link = self

        class Handler(super()._handler()):
            def setup(self):
                super().setup()
                with link.lock:
                    link.connections.append(self.connection)

        return Handler

    def stop(self) -> None:
        super().stop()
        with self.lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


def test_a_registry_stopped_mid_pull_fails_the_job_as_unreachable(job_runner, operator_client, registry, settings):
    repository = "faults/midpull"
    seed_image(registry, repository, 16_000_000)
    link = StoppableRegistry(registry, rate=1_000_000)
    settings.ALLOWED_REGISTRIES = [link.host]  # on 127.0.0.1 and not in the engine's configuration
    try:
        reference = f"{link.host}/{repository}:1"
        assert (
            operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": reference}).status_code
            == 302
        )
        job = Job.objects.get()
        wait_until(
            lambda: Job.objects.get(pk=job.pk).progress.get("current", 0) > 0, timeout=60, message="bytes to arrive"
        )
    finally:
        link.stop()
    # The engine retries a broken download a few times before it gives up.
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=240, message="the pull to fail")
    job.refresh_from_db()
    assert job.state == "failed", job.output
    assert f"The registry {link.host} could not be reached from the engine." in job.error
    assert "could not be reached" in operator_client.get(reverse("job_detail", args=[job.pk])).content.decode()
    outcomes = list(AuditEvent.objects.filter(job_id=job.pk).order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["requested", "failed"]
