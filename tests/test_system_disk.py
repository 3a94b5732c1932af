"""Disk use (`docker system df`): computed by a job on a timer, shown with its age and a chart."""

import re

import pytest
from django.urls import reverse

from console.jobs.models import Job
from tests.conftest import wait_until

pytest_plugins = ["tests.watcher_process"]


@pytest.mark.worker
def test_the_watcher_has_disk_use_computed_and_the_pages_show_it_with_its_age_and_a_chart(
    worker, start_watcher, viewer_client
):
    assert "Not computed yet" in viewer_client.get(reverse("system", args=["local"])).content.decode()
    start_watcher(DISK_USAGE_INTERVAL="600").wait_following()
    job = wait_until(lambda: Job.objects.filter(kind="system.df").first(), message="the watcher to ask for disk use")
    assert job.requested_by_name == "console"
    wait_until(lambda: Job.objects.get(pk=job.pk).state == "succeeded", message="the df job to succeed")
    job.refresh_from_db()

    for name in ("system", "dashboard"):
        page = viewer_client.get(reverse(name, args=["local"])).content.decode()
        assert re.search(r'Computed <span title="[^"]+">less than a (second|minute) ago</span>', page), name
        meters = re.findall(r'<meter class="disk-size" min="0" max="(\d+)" value="(\d+)"', page)
        assert [int(value) for _, value in meters] == [row["size"] for row in job.result["rows"]], name
        assert {int(top) for top, _ in meters} == {max([row["size"] for row in job.result["rows"]] + [1])}
        for row in job.result["rows"]:
            assert f'<td>{row["type"]}</td><td class="num">{row["total"]}</td>' in page
    # The watcher asks again only after DISK_USAGE_INTERVAL: one job so far.
    assert Job.objects.filter(kind="system.df").count() == 1


def test_a_queued_disk_use_job_is_shown_instead_of_the_button(operator_client):
    job = Job.objects.create(kind="system.df", engine="local", target="disk usage", requested_by_name="otto")
    page = operator_client.get(reverse("system", args=["local"])).content.decode()
    assert f'Being computed: <a href="/jobs/{job.pk}/">job {job.pk}</a> (queued)' in page
    assert "Compute disk use now" not in page
