"""The jobs page: the team's queue of every kind, with filters, progress, outcome and cancel."""

import html
import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from console.audit.models import AuditEvent
from console.jobs.models import Job


@pytest.fixture
def jobs(db):
    now = timezone.now()
    return {
        "pull": Job.objects.create(
            kind="image.pull",
            engine="local",
            target="httpd:2.2",
            requested_by_name="otto",
            joined_by=["vera"],
            state="running",
            started=now - timedelta(seconds=12),
            heartbeat=now,
            progress={"current": 6_000_000, "total": 24_000_000},
        ),
        "df": Job.objects.create(
            kind="system.df",
            engine="local",
            target="disk usage",
            requested_by_name="console",
            state="succeeded",
            started=now - timedelta(seconds=3),
            finished=now - timedelta(seconds=1),
        ),
        "failed": Job.objects.create(
            kind="image.pull",
            engine="local",
            target="nope:1",
            requested_by_name="ada",
            state="failed",
            started=now - timedelta(seconds=5),
            finished=now - timedelta(seconds=4),
            error="manifest for nope:1 not found",
        ),
        "queued": Job.objects.create(kind="system.df", engine="local", target="disk usage", requested_by_name="otto"),
    }


def row(page: str, job: Job) -> str:
    match = re.search(rf'<tr id="job-{job.pk}">(.*?)</tr>', page, re.S)
    assert match, f"no row for job {job.pk}"
    return match.group(1)


def test_it_lists_jobs_of_every_kind_with_who_asked_progress_duration_and_outcome(viewer_client, jobs):
    page = viewer_client.get(reverse("job_list")).content.decode()
    pull = row(page, jobs["pull"])
    assert "image.pull" in pull and "otto" in pull and "joined by vera" in pull
    assert '<progress max="24000000" value="6000000">' in pull and "6MB of 24MB" in pull
    assert re.search(r"1[2-9]\.\d s", pull)  # running for 12 s so far
    df = row(page, jobs["df"])
    assert "system.df" in df and "console" in df and "2.0 s" in df and "done" in df
    failed = row(page, jobs["failed"])  # ada's job: its engine error is for ada and Admins
    assert "state-failed" in failed and "manifest for nope:1" not in failed and "shown to whoever asked" in failed
    assert "queued" in row(page, jobs["queued"])
    assert "Cancel" not in page  # a viewer cannot cancel


def test_it_filters_by_state_kind_and_who_asked(viewer_client, jobs):
    def shown(**filters):
        page = viewer_client.get(reverse("job_list"), filters).content.decode()
        return {int(pk) for pk in re.findall(r'<tr id="job-(\d+)">', page)}

    assert shown(state="failed") == {jobs["failed"].pk}
    assert shown(kind="system.df") == {jobs["df"].pk, jobs["queued"].pk}
    assert shown(user="otto") == {jobs["pull"].pk, jobs["queued"].pk}
    assert shown(kind="image.pull", state="running", user="otto") == {jobs["pull"].pk}
    assert shown(user="nobody") == set()


def test_an_operator_cancels_a_queued_job_from_the_list(operator_client, jobs):
    page = operator_client.get(reverse("job_list")).content.decode()
    assert "Cancel" in row(page, jobs["queued"]) and "Cancel" not in row(page, jobs["df"])
    response = operator_client.post(reverse("job_cancel", args=[jobs["queued"].pk]), {"back": "list"})
    assert response.status_code == 302 and response["Location"] == reverse("job_list")
    assert Job.objects.get(pk=jobs["queued"].pk).state == "cancelled"
    assert AuditEvent.objects.filter(job_id=jobs["queued"].pk, outcome="cancelled", actor_name="otto").count() == 1


def test_a_viewer_cannot_cancel_and_the_refusal_is_recorded(viewer_client, jobs):
    response = viewer_client.post(reverse("job_cancel", args=[jobs["queued"].pk]), {"back": "list"})
    assert response.status_code == 403
    assert Job.objects.get(pk=jobs["queued"].pk).state == "queued"
    assert AuditEvent.objects.filter(outcome="denied", actor_name="vera").count() == 1


def test_the_live_rows_answer_an_unchanged_poll_with_no_content(viewer_client, jobs):
    hx = {"HX-Request": "true"}
    first = viewer_client.get(reverse("job_list"), {"state": "running"}, headers=hx)
    token = re.search(r"\"v\": \"([^\"]+)\"", first.content.decode()).group(1)
    assert viewer_client.get(reverse("job_list"), {"state": "running", "v": token}, headers=hx).status_code == 204
    Job.objects.filter(pk=jobs["pull"].pk).update(progress={"current": 12_000_000, "total": 24_000_000}, revision=5)
    again = viewer_client.get(reverse("job_list"), {"state": "running", "v": token}, headers=hx)
    assert again.status_code == 200 and 'value="12000000"' in again.content.decode()


def test_cancelling_a_running_job_of_someone_else_records_who_asked(operator_client, jobs):
    Job.objects.filter(pk=jobs["pull"].pk).update(requested_by_name="ada")
    operator_client.post(reverse("job_cancel", args=[jobs["pull"].pk]), {"back": "list"})
    assert Job.objects.get(pk=jobs["pull"].pk).cancel_requested
    event = AuditEvent.objects.get(job_id=jobs["pull"].pk)
    assert (event.actor_name, event.action, event.outcome) == ("otto", "job.cancel", "requested")
    # Asking again records nothing more: the job has been asked to stop already.
    operator_client.post(reverse("job_cancel", args=[jobs["pull"].pk]), {"back": "list"})
    assert AuditEvent.objects.filter(job_id=jobs["pull"].pk).count() == 1


def test_filter_text_cannot_add_a_value_to_the_live_rows_poll(viewer_client, jobs):
    for kind in ('","x":"injected', "'><b>x</b>", '" hx-get="/evil'):
        page = viewer_client.get(reverse("job_list"), {"kind": kind}).content.decode()
        vals = json.loads(html.unescape(re.search(r"id=\"job-rows\"[^>]*hx-vals='([^']*)'", page).group(1)))
        assert list(vals) == ["v"] and kind in vals["v"]
