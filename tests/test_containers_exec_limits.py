"""Issue #12 (exec): a command is a job with a time limit, so long or many commands never hold the web process,
and its length is limited before the engine sees it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.test import Client

from console.audit.models import AuditEvent
from console.jobs.models import Job
from console.jobs.runner import execute
from tests.conftest import wait_until

pytestmark = pytest.mark.security

TIMEOUT = 120  # a safety net for a hung server, not a measure: the old exec answered after 30 s


def sleeps(container) -> list[list[str]]:
    return [p for p in container.top()["Processes"] if "sleep" in " ".join(p)]


def test_a_command_over_the_length_limit_is_refused_and_nothing_runs(lab, operator_client):
    up = lab.httpd()
    too_long = "echo " + "x" * 4092  # 4,097 characters
    for headers in ({}, {"HX-Request": "true"}):
        response = operator_client.post(
            f"/engines/local/containers/{up.id}/exec/", {"command": too_long}, headers=headers
        )
        page = response.content.decode()
        assert response.status_code == 400 and "the limit is 4,096" in page and "Nothing was run" in page
    assert not Job.objects.exists() and not AuditEvent.objects.filter(action="container.exec").exists()
    response = operator_client.post(f"/engines/local/containers/{up.id}/exec/", {"command": too_long[:4096]})
    assert response.status_code == 302 and Job.objects.get().params["command"] == too_long[:4096]


def test_a_command_past_the_time_limit_is_ended_and_the_job_says_so(lab, operator_client, settings):
    settings.EXEC_TIMEOUT = 2
    up = lab.httpd()
    command = "sh -c 'echo started; sleep 600; echo never'"
    operator_client.post(f"/engines/local/containers/{up.id}/exec/", {"command": command})
    job = Job.objects.get(kind="container.exec")
    execute(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and job.error.startswith("Ended after 2 s")
    assert "started\n" in job.output and "the limit (EXEC_TIMEOUT): ended." in job.output and "never" not in job.output
    assert sleeps(lab.get(up.name)) == []  # the command and what it started are gone
    page = operator_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Ended after 2 s" in page
    assert AuditEvent.objects.filter(job_id=job.pk).latest("id").outcome == "failed"


def test_a_cancelled_command_is_ended(lab, operator_client):
    up = lab.httpd()
    operator_client.post(f"/engines/local/containers/{up.id}/exec/", {"command": "sleep 600"})
    job = Job.objects.get(kind="container.exec")
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)  # as the Cancel button does to a running job
    execute(job.pk)
    job.refresh_from_db()
    assert job.state == "cancelled" and "Cancelled while running: ended." in job.output
    assert sleeps(lab.get(up.name)) == []


@pytest.mark.worker
def test_long_commands_do_not_hold_the_web_process(worker, lab, live_server, operator):
    """Eight `sleep 600` at once (the attack that took every web thread): each is answered at once, queued as a job,
    and the health check and a page answer while they run."""
    up = lab.httpd("long")
    client = Client()
    client.force_login(operator)
    cookies = {"sessionid": client.cookies["sessionid"].value}
    detail = f"{live_server.url}/engines/local/containers/{up.id}/"
    token = requests.get(detail, cookies=cookies, timeout=TIMEOUT).cookies["csrftoken"]

    def ask(_: int) -> int:
        response = requests.post(
            f"{live_server.url}/engines/local/containers/{up.id}/exec/",
            data={"command": "sleep 600"},
            cookies={**cookies, "csrftoken": token},
            headers={"X-CSRFToken": token, "HX-Request": "true"},
            timeout=TIMEOUT,
        )
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(ask, range(8))) == [200] * 8
    assert Job.objects.filter(kind="container.exec").count() == 8
    wait_until(lambda: len(sleeps(lab.get(up.name))) == 2, message="the worker to run two of them")
    assert requests.get(f"{live_server.url}/healthz", timeout=TIMEOUT).json() == {"status": "ok"}
    page = requests.get(detail, cookies=cookies, timeout=TIMEOUT)
    assert page.status_code == 200 and up.name in page.text
    assert not Job.objects.filter(kind="container.exec", state__in=Job.TERMINAL).exists()  # answered while they ran
