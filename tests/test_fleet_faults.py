"""Faults on a fleet: one engine stopped (its pages say so, its jobs fail saying why, the others carry on, and
it is followed again once it is back), and an engine whose identity is not the one given (a CA that did not
sign its certificate, an SSH host key that changed) refused on its pages in words that say which."""

from __future__ import annotations

import html
import os
import re
import subprocess
import uuid

import pytest
from django.core.cache import cache

from console import engine, snapshot
from console.engines.models import Engine
from console.jobs.models import Job
from tests.conftest import wait_until
from tests.lab import docker_at, engine_start, engine_stop
from tests.watcher_process import following

pytest_plugins = ["tests.watcher_process"]


def page(client, url: str, **query) -> str:
    response = client.get(url, query)
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


def banner(text: str) -> str:
    found = re.search(r'<div class="banner banner-error" role="alert" id="engine-banner">(.*?)</div>', text, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split()) if found else ""


def job_from(response) -> Job:
    assert response.status_code == 302, response.content.decode()[:3000]
    return Job.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def finished(job: Job, timeout: float = 60) -> Job:
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=timeout, message=f"job {job.pk} to finish")
    job.refresh_from_db()
    return job


def listed(client, name: str) -> list[str]:
    return [row.names for row in client.get(f"/engines/{name}/containers/", {"all": "1"}).context["window"].rows]


@pytest.mark.fault
@pytest.mark.serial
def test_a_stopped_engine_is_said_on_its_pages_fails_its_jobs_and_is_followed_again_once_back(
    watch,  # noqa: F811
    job_runner,
    operator_client,
):
    following(watch, "local", "tls", "ssh")
    tls_socket, name = os.environ["LAB_TLS_SOCKET"], f"fleet-back-{uuid.uuid4().hex[:8]}"
    address = Engine.objects.get(name="tls").url
    assert docker_at(tls_socket, "pull", "hello-world", timeout=60).returncode == 0
    engine_stop("tls")
    try:
        # (While dockerd goes down the watcher may first see its connection reset; then it is refused.)
        said = wait_until(
            lambda: (text := banner(page(operator_client, "/engines/tls/containers/"))) and "refused" in text and text,
            timeout=30,
            message="the tls engine's pages to say it is unreachable",
        )
        assert said.startswith("Engine “tls” unreachable.")
        assert f"Cannot reach the Docker engine tls at {address}: connection refused" in said

        pull = finished(job_from(operator_client.post("/engines/tls/images/pull/start/", {"reference": "hello-world"})))
        assert pull.state == "failed" and pull.engine == "tls"
        assert pull.error == f"Cannot reach the Docker engine tls at {address}: connection refused"
        assert "Cannot reach the Docker engine tls" in page(operator_client, f"/jobs/{pull.pk}/")

        # The local engine carries on: no banner on its pages, and its jobs run.
        assert banner(page(operator_client, "/engines/local/containers/")) == ""
        assert banner(page(operator_client, "/engines/ssh/")) == ""
        run = finished(
            job_from(
                operator_client.post(
                    "/engines/local/containers/run/",
                    {"image": "hello-world", "name": f"{name}-local", "restart_policy": "no", "follow": "on"},
                )
            )
        )
        assert run.state == "succeeded", run.error
        assert "Hello from Docker!" in run.output
        assert following(watch, "local", "ssh", timeout=5)
    finally:
        engine_start("tls")
    try:
        # Made on the engine before the console followed it again: the console's lists show it all the same.
        made = docker_at(tls_socket, "create", "--name", name, "hello-world", timeout=60)
        assert made.returncode == 0, made.stderr.decode()
        following(watch, "tls", timeout=45)
        with engine.using("tls"):
            wait_until(
                lambda: name in {c.names for c in snapshot.containers(all=True)},
                timeout=15,
                message="the tls watcher to list the container made while it was away",
            )
        assert banner(page(operator_client, "/engines/tls/containers/")) == ""
        assert name in listed(operator_client, "tls")
    finally:
        docker_at(tls_socket, "rm", "-f", name, timeout=60)
        docker_at(os.environ["DOCKER_HOST"], "rm", "-f", f"{name}-local", timeout=60)


@pytest.fixture
def stranger_ca_and_host_key(tmp_path) -> tuple[str, str]:
    """A CA that did not sign the tls engine's certificate, and the public part of an SSH key that is not
    the lab sshd's host key."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-days", "1", "-keyout", tmp_path / "ca-key.pem", "-out", tmp_path / "ca.pem", "-subj", "/CN=other CA"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", tmp_path / "other"], check=True, capture_output=True
    )
    kind, blob, *_ = (tmp_path / "other.pub").read_text().split()
    return (tmp_path / "ca.pem").read_text(), f"{kind} {blob}"


@pytest.mark.security
def test_a_wrong_ca_and_a_changed_host_key_are_refused_on_the_engines_pages(
    fleet, operator_client, stranger_ca_and_host_key
):
    other_ca, other_host_key = stranger_ca_and_host_key
    Engine.objects.filter(name="tls").update(tls_ca=other_ca)
    Engine.objects.filter(name="ssh").update(ssh_host_key=other_host_key)
    cache.clear()  # what a page learnt about the engines a moment ago
    for name in ("tls", "ssh"):
        engine.reset_client(name)

    tls_page = page(operator_client, "/engines/tls/containers/")
    assert "TLS verification failed: the engine's certificate is not signed by the CA given." in banner(tls_page)
    assert banner(tls_page).startswith("Engine “tls” unreachable.")

    ssh_page = page(operator_client, "/engines/ssh/containers/")
    said = banner(ssh_page)
    assert said.startswith("Engine “ssh” unreachable.")
    assert "THE ENGINE'S SSH HOST KEY HAS CHANGED" in said
    assert "Someone may be in the middle" in said and "pin the new key" in said

    # The engine with the right material is unaffected.
    assert banner(page(operator_client, "/engines/local/containers/")) == ""
