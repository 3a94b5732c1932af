"""What a new user tripped on (issue 20, item 5): the job page went stale. In real Chromium, without a
reload: the duration moves while the job runs, Cancel is there while it runs and gone once it ended, and a
Stop says "Stopping…" (next to a running badge) until the container and its job really ended."""

import re

import pytest
from playwright.sync_api import expect

from console.jobs.models import Job
from tests.conftest import sign_in, wait_until


def test_it_keeps_the_job_page_current_through_a_stop(job_runner, browser_page, operator, operator_client, lab):
    lab.pull("httpd", "2.4")
    name = lab.name("stale")
    response = operator_client.post(
        "/engines/local/containers/run/", {"image": "httpd:2.4", "name": name, "restart_policy": "no", "follow": "on"}
    )
    job = Job.objects.get(pk=int(response["Location"].strip("/").split("/")[-1]))
    wait_until(lambda: "serving /www" in Job.objects.get(pk=job.pk).output, message="httpd to serve")

    page = browser_page
    sign_in(page, "otto")
    page.goto(f"/jobs/{job.pk}/")
    expect(page.locator("#job-state")).to_have_text("running")
    expect(page.locator("#job-cancel button")).to_be_visible()
    duration = page.locator("#job-duration")
    before = int(duration.inner_text().split()[0])
    expect(duration).not_to_have_text(re.compile(rf"^{before} s$"), timeout=5000)  # it ticks between polls

    page.fill("input[name=grace]", "4")  # busybox httpd as PID 1 ignores SIGTERM: the stop waits 4 s
    page.click("#run-stop")
    expect(page.locator("#job-pending")).to_contain_text("Stopping the container", timeout=3000)
    expect(page.locator("#job-state")).to_have_text("running")
    expect(page.locator("#run-stop")).to_have_count(0)
    expect(page.locator(".flash")).to_have_count(0)  # no "Stopped" next to a running badge

    expect(page.locator("#job-state")).to_have_text("succeeded", timeout=30_000)
    expect(page.locator("#run-exit-code")).to_be_visible()
    expect(page.locator("#job-pending")).to_have_count(0)
    expect(page.locator("#job-cancel")).to_have_count(0)  # gone once the job ended, without a reload
    assert lab.get(name).status == "exited"


@pytest.mark.django_db
def test_it_says_stop_failed_and_keeps_no_stopping_note(operator_client):
    job = Job.objects.create(
        kind="container.run",
        engine="local",
        requested_by_name="otto",
        state="running",
        progress={"container": {"id": "0123456789ab" * 5 + "0123", "name": "gone"}},
    )
    container_id = job.progress["container"]["id"]
    response = operator_client.post(
        f"/engines/local/containers/{container_id}/stop/",
        {"grace": "1", "next": f"/jobs/{job.pk}/", "job": str(job.pk)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    assert Job.objects.get(pk=job.pk).pending == ""
    page = operator_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "flash-error" in page and 'id="job-pending"' not in page
