"""`docker exec`: a one-off command in a running container, its output and exit code."""

from console.audit.models import AuditEvent


def test_it_shows_the_output_of_both_streams_and_the_exit_code(lab, operator_client):
    up = lab.httpd()
    command = "sh -c 'echo from-stdout; echo from-stderr >&2; exit 3'"
    response = operator_client.post(f"/containers/{up.id}/exec/", {"command": command}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<div id="exec-result">')
    assert 'id="exec-exit">3<' in page
    assert '<div class="line stdout" title="stdout">from-stdout</div>' in page
    assert '<div class="line stderr" title="stderr">from-stderr</div>' in page
    event = AuditEvent.objects.get(action="container.exec")
    assert (event.outcome, event.target, event.target_id) == ("succeeded", up.name, up.id)
    assert event.params == {"command": command, "exit_code": 3}


def test_a_full_page_answer_without_htmx(lab, operator_client):
    up = lab.httpd()
    page = operator_client.post(f"/containers/{up.id}/exec/", {"command": "cat /www/index.html"}).content.decode()
    assert "<html" in page and 'id="exec-exit">0<' in page and "&lt;h1&gt;It works!&lt;/h1&gt;" in page


def test_a_stopped_container_or_a_missing_command_is_refused(lab, operator_client):
    exited = lab.hello()
    page = operator_client.post(f"/containers/{exited.id}/exec/", {"command": "ls"}).content.decode()
    assert "is not running" in page
    assert AuditEvent.objects.get(action="container.exec").outcome == "failed"
    up = lab.httpd()
    for command in ("", "   ", "echo 'unbalanced"):
        response = operator_client.post(f"/containers/{up.id}/exec/", {"command": command})
        assert response.status_code == 400
    assert AuditEvent.objects.filter(action="container.exec").count() == 1
