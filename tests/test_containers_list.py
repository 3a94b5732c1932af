"""The container list: `docker ps` and `docker ps -a`, with the CLI's columns, filter, sort, counts and bulk actions."""

import re
from collections import Counter

import pytest
from django.utils.html import escape

from console.audit.models import AuditEvent
from tests.conftest import wait_until

pytest_plugins = ["tests.watcher_process"]


def rows(page: str) -> list[str]:
    return re.findall(r'<tr class="state-\w+" id="row-[0-9a-f]{12}">.*?</tr>', page, re.S)


def test_it_lists_running_containers_by_default_and_all_with_the_switch_remembered(lab, viewer_client):
    exited = lab.hello()
    up = lab.httpd()

    page = viewer_client.get("/engines/local/containers/").content.decode()
    assert up.name in page and exited.name not in page

    page = viewer_client.get("/engines/local/containers/?all=1").content.decode()
    assert up.name in page and exited.name in page
    assert "Exited (0)" in page

    # remembered for this user without the parameter, until switched back
    page = viewer_client.get("/engines/local/containers/").content.decode()
    assert exited.name in page
    page = viewer_client.get("/engines/local/containers/?all=0").content.decode()
    assert exited.name not in page
    assert exited.name not in viewer_client.get("/engines/local/containers/").content.decode()


def test_it_shows_the_columns_as_the_cli_prints_them(lab, viewer_client):
    up = lab.httpd()
    port = up.ports["80/tcp"][0]["HostPort"]
    page = viewer_client.get("/engines/local/containers/", {"q": up.name}).content.decode()
    (row,) = rows(page)
    assert f"<code>{up.id[:12]}</code>" in row
    assert "<td>httpd:2.4</td>" in row
    # COMMAND: quoted, cut to 20 characters, the whole command on hover
    assert escape('"/bin/sh -c \'echo \\"h…"') in row
    assert f'title="{escape(up.attrs["Path"])}' in row
    assert re.search(r'title="[^"]+">less than a (second|minute) ago</td>', row)
    assert re.search(r'<span class="badge state-running">Up [^<]+</span>', row)
    assert escape(f"127.0.0.1:{port}->80/tcp") in row
    assert f">{up.name}</a>" in row


def test_it_filters_as_you_type_and_answers_htmx_with_the_table_only(lab, viewer_client):
    first, second = lab.httpd("alpha"), lab.httpd("beta")
    response = viewer_client.get("/engines/local/containers/", {"q": first.name}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="container-table">') and "<html" not in page
    assert first.name in page and second.name not in page
    assert response["Vary"] and "HX-Request" in response["Vary"]
    page = viewer_client.get("/engines/local/containers/", {"q": "no-such-container-anywhere"}).content.decode()
    assert "No containers match" in page


def test_it_sorts_by_any_column_both_ways(lab, viewer_client):
    a = lab.httpd("sort-a")
    b = lab.httpd("sort-b")
    prefix = a.name.split("-")[0]
    for column in ("names", "id", "image", "command", "created", "status", "ports"):
        assert viewer_client.get("/engines/local/containers/", {"sort": column, "dir": "asc"}).status_code == 200
    ascending = viewer_client.get(
        "/engines/local/containers/", {"q": prefix, "sort": "names", "dir": "asc"}
    ).content.decode()
    descending = viewer_client.get(
        "/engines/local/containers/", {"q": prefix, "sort": "names", "dir": "desc"}
    ).content.decode()
    assert ascending.index(a.name) < ascending.index(b.name)
    assert descending.index(b.name) < descending.index(a.name)
    assert 'aria-sort="ascending"' in ascending and 'aria-sort="descending"' in descending
    newest_first = viewer_client.get("/engines/local/containers/", {"q": prefix}).content.decode()
    assert newest_first.index(b.name) < newest_first.index(a.name)


@pytest.mark.serial  # counts or compares what the whole engine holds
def test_it_counts_containers_per_state(lab, viewer_client):
    lab.hello()
    paused = lab.httpd("paused")
    paused.pause()
    page = viewer_client.get("/engines/local/containers/").content.decode()
    counts = Counter(c.status for c in lab.client.containers.list(all=True))
    for state, n in counts.items():
        assert f'<span class="badge state-{state}">{n} {state}</span>' in page
    assert "(Paused)" in page  # a paused container is listed by `docker ps`, said as the engine says it


def test_an_operator_stops_and_removes_several_containers_in_one_action(lab, operator_client):
    one, two = lab.httpd("bulk1"), lab.httpd("bulk2")
    response = operator_client.post(
        "/engines/local/containers/bulk/", {"action": "stop", "ids": [one.id, two.id], "grace": "1"}, follow=True
    )
    assert f"Stopped {one.name}" in response.content.decode() and f"Stopped {two.name}" in response.content.decode()
    assert lab.get(one.name).status == "exited" and lab.get(two.name).status == "exited"
    events = AuditEvent.objects.filter(action="container.stop", outcome="succeeded")
    assert {e.target_id for e in events} == {one.id, two.id}
    assert {e.target for e in events} == {one.name, two.name}

    operator_client.post("/engines/local/containers/bulk/", {"action": "start", "ids": [one.id, two.id]})
    assert lab.get(one.name).status == "running" and lab.get(two.name).status == "running"

    # without force the engine refuses to remove running containers: each refusal is said and recorded
    page = operator_client.post(
        "/engines/local/containers/bulk/", {"action": "remove", "ids": [one.id, two.id], "confirm": "yes"}, follow=True
    )
    assert page.content.decode().count("The engine refused to remove") == 2
    assert lab.exists(one.name) and lab.exists(two.name)
    assert AuditEvent.objects.filter(action="container.remove", outcome="failed").count() == 2

    operator_client.post(
        "/engines/local/containers/bulk/", {"action": "remove", "ids": [one.id, two.id], "force": "1", "confirm": "yes"}
    )
    assert not lab.exists(one.name) and not lab.exists(two.name)
    assert AuditEvent.objects.filter(action="container.remove", outcome="succeeded").count() == 2


@pytest.mark.parametrize("data", [{"action": "stop"}, {"action": "explode", "ids": ["x"]}, {"ids": ["x"]}])
def test_a_bulk_action_without_containers_or_with_an_unknown_action_does_nothing(operator_client, data):
    response = operator_client.post("/engines/local/containers/bulk/", data, follow=True)
    assert "Nothing was done" in response.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="container.").exists()


def test_a_viewer_sees_no_bulk_actions_and_is_refused_them(lab, viewer_client):
    up = lab.httpd()
    page = viewer_client.get("/engines/local/containers/").content.decode()
    assert 'id="bulk"' not in page and 'name="ids"' not in page and "Run a container" not in page
    response = viewer_client.post("/engines/local/containers/bulk/", {"action": "stop", "ids": [up.id]})
    assert response.status_code == 403
    assert lab.get(up.name).status == "running"
    assert AuditEvent.objects.filter(action="container.bulk", outcome="denied").exists()


def test_a_list_rendered_once_for_everyone_shows_a_new_state_as_soon_as_the_snapshot_has_it(
    lab, viewer_client, operator_client, start_watcher
):
    up = lab.httpd()
    start_watcher().wait_following()
    page = "/engines/local/containers/?all=1"

    def row(client, state: str) -> str | None:
        found = re.search(rf'<tr class="state-{state}" id="row-{up.short_id}">.*?</tr>', client.get(page).text, re.S)
        return found.group(0) if found else None

    shown = wait_until(lambda: row(viewer_client, "running"), message="the list to show the container running")
    # The same view is shared, but not across roles: the operator's rows have the bulk actions' boxes.
    assert 'name="ids"' not in shown and 'name="ids"' in row(operator_client, "running")
    # Asked again: the same rows (but for the status's age, said as of the page: "Up 2 seconds").
    assert re.sub(r">Up [^<]*<", "Up", row(viewer_client, "running")) == re.sub(r">Up [^<]*<", "Up", shown)

    up.stop(timeout=1)  # outside the console: only the watcher sees it
    for client in (viewer_client, operator_client):
        wait_until(lambda client=client: row(client, "exited"), message="the list to show the container exited")
