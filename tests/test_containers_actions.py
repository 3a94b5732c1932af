"""Lifecycle actions: each one does what the CLI does, says why when the engine refuses, and is audited."""

import pytest

from console.audit.models import AuditEvent


def post(client, container, action: str, **data):
    """The action, confirmed where it asks first (Kill, Remove: tests/test_newuser_confirm.py)."""
    return client.post(f"/engines/local/containers/{container.id}/{action}/", {"confirm": "yes", **data}, follow=True)


def last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=f"container.{action}").latest("id")


def test_stop_start_restart_pause_unpause_and_kill(lab, operator_client):
    up = lab.httpd()
    response = post(operator_client, up, "stop", grace="1")
    assert f"Stopped {up.name}" in response.content.decode()
    assert lab.get(up.name).status == "exited"
    event = last_event("stop")
    assert (event.outcome, event.target, event.target_id, event.params["grace"]) == (
        "succeeded",
        up.name,
        up.id,
        1,
    )
    assert event.actor_name == "otto"

    post(operator_client, up, "start")
    assert lab.get(up.name).status == "running"
    started = lab.get(up.name).attrs["State"]["StartedAt"]
    post(operator_client, up, "restart", grace="1")
    assert lab.get(up.name).attrs["State"]["StartedAt"] != started

    post(operator_client, up, "pause")
    assert lab.get(up.name).status == "paused"
    page = operator_client.get(f"/engines/local/containers/{up.id}/").content.decode()
    assert "Unpause" in page
    post(operator_client, up, "unpause")
    assert lab.get(up.name).status == "running"

    response = post(operator_client, up, "kill", signal="SIGKILL")
    assert f"Sent SIGKILL to {up.name}" in response.content.decode()
    killed = lab.get(up.name)
    assert killed.status == "exited" and killed.attrs["State"]["ExitCode"] == 137
    for action in ("start", "restart", "pause", "unpause", "kill"):
        assert last_event(action).outcome == "succeeded"


def test_rename_and_remove_with_its_anonymous_volumes(lab, operator_client):
    up = lab.httpd(volumes=["/scratch"])  # an anonymous volume
    volume = up.attrs["Mounts"][0]["Name"]
    new_name = lab.name("renamed")
    response = post(operator_client, up, "rename", name=new_name)
    assert f"Renamed {up.name} to {new_name}" in response.content.decode()
    assert lab.get(up.id).name == new_name
    event = last_event("rename")
    assert (event.target, event.params["name"]) == (up.name, new_name)

    response = post(operator_client, up, "remove", force="1", volumes="1")
    assert response.redirect_chain[-1][0] == "/engines/local/containers/"
    assert f"Removed {new_name}" in response.content.decode()
    assert not lab.exists(up.id)
    assert volume not in [v.name for v in lab.client.volumes.list()]
    event = last_event("remove")
    assert (event.outcome, event.target_id, event.params) == ("succeeded", up.id, {"force": True, "volumes": True})


@pytest.mark.parametrize(
    ("running", "action", "data", "reason"),
    [
        (True, "remove", {}, "You cannot remove a running container"),
        (False, "kill", {"signal": "SIGTERM"}, "is not running"),
        (False, "pause", {}, "is not running"),
        (True, "unpause", {}, "is not paused"),
    ],
)
def test_engine_refusals_are_said_plainly_and_recorded(lab, operator_client, running, action, data, reason):
    container = lab.httpd() if running else lab.hello()
    before = lab.get(container.id).status
    page = post(operator_client, container, action, **data).content.decode()
    assert f"The engine refused to {action} {container.name}" in page and reason in page
    assert lab.exists(container.id) and lab.get(container.id).status == before
    event = last_event(action)
    assert event.outcome == "failed" and reason in event.error and event.target_id == container.id


def test_renaming_to_a_name_in_use_is_refused(lab, operator_client):
    one, two = lab.httpd("one"), lab.httpd("two")
    page = post(operator_client, one, "rename", name=two.name).content.decode()
    assert f"The engine refused to rename {one.name}" in page and "is already in use" in page
    assert lab.get(one.id).name == one.name


def test_an_unknown_container_is_said_so(operator_client):
    page = operator_client.post("/engines/local/containers/nope-not-here/stop/", follow=True).content.decode()
    assert "No such container: nope-not-here" in page
    assert last_event("stop").outcome == "failed"


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("stop", {"grace": "soon"}),
        ("stop", {"grace": "99999"}),
        ("kill", {"signal": "SIGBOGUS"}),
        ("rename", {"name": "/x y"}),
    ],
)
def test_bad_input_changes_nothing(lab, operator_client, action, data):
    up = lab.httpd()
    page = post(operator_client, up, action, **data).content.decode()
    assert "Nothing was done" in page
    current = lab.get(up.id)
    assert current.status == "running" and current.name == up.name
    assert not AuditEvent.objects.filter(action=f"container.{action}").exists()


@pytest.mark.parametrize("action", ["start", "stop", "restart", "kill", "pause", "unpause", "rename", "remove", "exec"])
def test_a_viewer_is_refused_every_action_and_the_refusal_is_recorded(lab, viewer_client, action):
    up = lab.httpd()
    response = viewer_client.post(
        f"/engines/local/containers/{up.id}/{action}/", {"name": "x", "force": "1", "command": "ls"}
    )
    assert response.status_code == 403
    assert "Operator" in response.content.decode()
    assert lab.get(up.id).status == "running" and lab.get(up.id).name == up.name
    event = last_event(action)
    assert event.outcome == "denied" and event.target == up.id


def test_actions_are_post_only_and_hidden_from_viewers(lab, viewer_client, operator_client):
    up = lab.httpd()
    assert operator_client.get(f"/engines/local/containers/{up.id}/stop/").status_code == 405
    assert lab.get(up.id).status == "running"
    page = viewer_client.get(f"/engines/local/containers/{up.id}/").content.decode()
    assert 'id="actions"' not in page and "docker exec" not in page
    page = operator_client.get(f"/engines/local/containers/{up.id}/").content.decode()
    assert 'id="actions"' in page and f'action="/engines/local/containers/{up.id}/stop/"' in page
