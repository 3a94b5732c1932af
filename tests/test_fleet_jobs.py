"""Jobs on a fleet: a pull and a run through each engine's pages land on that engine only, name it in the job,
the audit trail and the jobs list; pulls are joined per engine; and each engine's worker serves its own queue,
so slow pulls on one engine never hold up a job on another."""

from __future__ import annotations

import os
import re
import uuid

import pytest

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import wait_until
from tests.images_registries import SlowRegistry, seed_image
from tests.lab import docker_at

ENGINES = ("local", "tls", "ssh")


def socket_of(name: str) -> str:
    """The engine's unix socket, for the docker CLI."""
    return os.environ[{"local": "DOCKER_HOST", "tls": "LAB_TLS_SOCKET", "ssh": "LAB_SSH_SOCKET"}[name]]


def cli(name: str, *args: str) -> str:
    done = docker_at(socket_of(name), *args, timeout=60)
    return done.stdout.decode()


def containers_named(name: str, container: str) -> list[str]:
    return cli(name, "ps", "-a", "--filter", f"name=^{container}$", "--format", "{{.Names}}").split()


def has_image(name: str, reference: str) -> bool:
    return docker_at(socket_of(name), "image", "inspect", reference, timeout=60).returncode == 0


def job_from(response) -> Job:
    assert response.status_code == 302, response.content.decode()[:3000]
    return Job.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def pull_on(client, on: str, reference: str) -> Job:
    return job_from(client.post(f"/engines/{on}/images/pull/start/", {"reference": reference}))


def run_on(client, on: str, **fields) -> Job:
    data = {"restart_policy": "no", "follow": "on", **fields}
    return job_from(client.post(f"/engines/{on}/containers/run/", data))


def finished(job: Job, timeout: float = 90) -> Job:
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=timeout, message=f"job {job.pk} to finish")
    job.refresh_from_db()
    return job


@pytest.fixture
def fresh_image(registry):
    """A small image only the registry has (pushed from the local engine, which keeps no copy); removed from
    every engine afterwards."""
    repository = f"fleet/app{uuid.uuid4().hex[:8]}"
    seed_image(registry, repository, 2000)
    reference = f"{registry}/{repository}:1"
    yield reference
    for name in ENGINES:
        docker_at(socket_of(name), "rmi", "-f", reference, timeout=60)


@pytest.fixture
def made_containers():
    """Names of containers a test makes on the engines; removed from every engine afterwards."""
    names: list[str] = []
    yield names
    for name in ENGINES:
        for container in names:
            docker_at(socket_of(name), "rm", "-f", container, timeout=60)


@pytest.mark.parametrize("name", ENGINES)
def test_a_pull_and_a_run_through_an_engines_pages_land_on_that_engine_only(
    name, fleet, job_runner, operator_client, fresh_image, made_containers
):
    others = [other for other in ENGINES if other != name]

    pulled = finished(pull_on(operator_client, name, fresh_image))
    assert pulled.state == "succeeded", pulled.error
    assert pulled.engine == name and pulled.queue == f"engine.{name}"
    assert has_image(name, fresh_image)
    assert not any(has_image(other, fresh_image) for other in others)

    container = f"fleet-{name}-{uuid.uuid4().hex[:8]}"
    made_containers.append(container)
    ran = finished(run_on(operator_client, name, image="hello-world", name=container))
    assert ran.state == "succeeded", ran.error
    assert ran.engine == name and "Hello from Docker!" in ran.output
    assert containers_named(name, container) == [container]
    assert all(containers_named(other, container) == [] for other in others)

    # The console's own lists: the container on its engine's page, and on no other engine's.
    listed = operator_client.get(f"/engines/{name}/containers/", {"all": "1"})
    assert container in [row.names for row in listed.context["window"].rows]
    for other in others:
        page = operator_client.get(f"/engines/{other}/containers/", {"all": "1"})
        assert page.status_code == 200 and container not in [row.names for row in page.context["window"].rows]

    # The trail and the jobs list name the engine.
    for job in (pulled, ran):
        events = AuditEvent.objects.filter(job_id=job.pk).order_by("id")
        assert [(e.outcome, e.engine) for e in events] == [("requested", name), ("succeeded", name)]
    jobs = operator_client.get("/jobs/").content.decode()
    for job in (pulled, ran):
        row = re.search(rf'<tr id="job-{job.pk}">.*?</tr>', jobs, re.S).group(0)
        assert f'<a href="/engines/{name}/">{name}</a>' in row
    only_here = operator_client.get("/jobs/", {"engine": name}).content.decode()
    assert f'id="job-{pulled.pk}"' in only_here
    assert not Job.objects.exclude(engine=name).exists()


def test_a_pull_is_joined_on_its_own_engine_and_not_across_engines(
    transactional_db, fleet, operator_client, monkeypatch
):
    sent: list[tuple[int, str]] = []
    # Nobody serves the queues here: the jobs stay queued, as behind a busy worker.
    monkeypatch.setattr("console.jobs.runner.send_to_worker", lambda job_id, queue: sent.append((job_id, queue)) or "")

    on_local = pull_on(operator_client, "local", "httpd:2.2")
    again_on_local = pull_on(operator_client, "local", "httpd:2.2")
    on_tls = pull_on(operator_client, "tls", "httpd:2.2")

    assert again_on_local.pk == on_local.pk
    assert on_tls.pk != on_local.pk
    assert sorted(Job.objects.values_list("engine", "target", "state")) == [
        ("local", "httpd:2.2", "queued"),
        ("tls", "httpd:2.2", "queued"),
    ]
    assert sorted(queue for _, queue in sent) == ["engine.local", "engine.tls"]
    joined = AuditEvent.objects.get(action="image.pull", outcome="joined")
    assert joined.engine == "local" and joined.job_id == on_local.pk


LAYER = 6_000_000
RATE = 1_000_000  # bytes/s: each slow pull takes several seconds


@pytest.mark.worker
def test_slow_pulls_on_one_engine_do_not_hold_up_a_run_on_another(
    fleet_workers, operator_client, registry, settings, made_containers
):
    link = SlowRegistry(registry, rate=RATE)
    settings.ALLOWED_REGISTRIES = [link.host]  # checked when the pull is asked for, in this process
    references = []
    try:
        for _ in range(2):
            repository = f"fleet/slow{uuid.uuid4().hex[:8]}"
            seed_image(registry, repository, LAYER)
            references.append(f"{link.host}/{repository}:1")
        docker_at(socket_of("local"), "pull", "hello-world", timeout=60)  # present: the run needs no pull

        slow = [pull_on(operator_client, "tls", reference) for reference in references]
        wait_until(
            lambda: Job.objects.filter(pk__in=[j.pk for j in slow], state="running").count() == 2,
            timeout=30,
            message="both slow pulls to run",
        )
        container = f"fleet-iso-{uuid.uuid4().hex[:8]}"
        made_containers.append(container)
        quick = finished(run_on(operator_client, "local", image="hello-world", name=container), timeout=60)
        assert quick.state == "succeeded", quick.error

        slow = [finished(job, timeout=60) for job in slow]
        assert all(job.state == "succeeded" for job in slow), [job.error for job in slow]
        # The run on local started, and ended, while tls's worker was busy with both pulls.
        assert all(quick.started < job.finished and quick.finished < job.finished for job in slow)
        assert (quick.engine, quick.queue) == ("local", "engine.local")
        assert {(job.engine, job.queue) for job in slow} == {("tls", "engine.tls")}
    finally:
        link.stop()
        for reference in references:
            docker_at(socket_of("tls"), "rmi", "-f", reference, timeout=60)
