"""`docker exec`: a one-off command in a running container, run as a job; its output and exit code."""

from console.audit.models import AuditEvent
from console.jobs.models import Job
from console.jobs.runner import execute


def test_it_shows_the_output_of_both_streams_and_the_exit_code(lab, operator_client):
    up = lab.httpd()
    command = "sh -c 'echo from-stdout; echo from-stderr >&2; exit 3'"
    response = operator_client.post(
        f"/engines/local/containers/{up.id}/exec/", {"command": command}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    job = Job.objects.get(kind="container.exec")
    assert response.status_code == 200 and page.lstrip().startswith('<div id="exec-result">')
    assert f'href="/jobs/{job.pk}/"' in page and "from-stdout; echo" in page  # the command, as asked
    execute(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded" and job.result["exit_code"] == 3
    assert "from-stdout\n" in job.output and "from-stderr\n" in job.output
    live = operator_client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'id="exec-exit">3<' in live and "from-stderr" in live
    requested, done = AuditEvent.objects.filter(action="container.exec").order_by("id")
    assert (requested.outcome, requested.target, requested.params["command"]) == ("requested", up.name, command)
    assert requested.params["dangerous"] == []
    assert (done.outcome, done.target, done.target_id) == ("succeeded", up.name, up.id)


def test_a_full_page_answer_without_htmx_is_the_job_page(lab, operator_client):
    up = lab.httpd()
    response = operator_client.post(f"/engines/local/containers/{up.id}/exec/", {"command": "cat /www/index.html"})
    job = Job.objects.get(kind="container.exec")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    execute(job.pk)
    page = operator_client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="exec-exit">0<' in page and "&lt;h1&gt;It works!&lt;/h1&gt;" in page


def test_a_stopped_container_or_a_missing_command_is_refused(lab, operator_client):
    exited = lab.hello()
    page = operator_client.post(f"/engines/local/containers/{exited.id}/exec/", {"command": "ls"}).content.decode()
    assert "is not running" in page
    assert AuditEvent.objects.get(action="container.exec").outcome == "failed"
    up = lab.httpd()
    for command in ("", "   ", "echo 'unbalanced"):
        response = operator_client.post(f"/engines/local/containers/{up.id}/exec/", {"command": command})
        assert response.status_code == 400 and "Nothing was run" in response.content.decode()
    assert AuditEvent.objects.filter(action="container.exec").count() == 1
    assert not Job.objects.exists()
