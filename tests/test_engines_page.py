"""Global Admins add, test, edit and remove engines on the Engines page; every change is recorded."""

import os
from types import SimpleNamespace

import pytest
from django.urls import reverse

from console import crypto
from console.audit.models import AuditEvent
from console.engine import core
from console.engines.models import KEY_PURPOSE, Engine
from console.jobs.models import Job

CA = "-----BEGIN CERTIFICATE-----\nMIIBcafe\n-----END CERTIFICATE-----"
CERT = "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----"
KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
PIN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
KEY = f"-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----"


@pytest.fixture
def lab_socket() -> str:
    """The lab engine's address (unix://…), which the environment engine also uses."""
    return os.environ["DOCKER_HOST"]


def _fields(**values) -> dict:
    base = {"name": "", "description": "", "labels": "", "url": "", "tls_ca": "", "tls_cert": "", "tls_key": ""}
    return {**base, "ssh_key": "", **values}


def _add(client, **values):
    return client.post(reverse("engine_add"), _fields(**values))


def test_it_adds_a_unix_engine_that_then_is_listed_and_in_the_switcher(admin_client, lab_socket):
    response = _add(
        admin_client, name="lab2", description="The lab, again", labels="env=test, team=ops", url=lab_socket
    )
    assert response.status_code == 302 and response["Location"] == reverse("engine_list")
    row = Engine.objects.get(name="lab2")
    assert (row.url, row.labels, row.kind, row.revision) == (lab_socket, {"env": "test", "team": "ops"}, "unix", 1)
    page = admin_client.get(reverse("engine_list")).content.decode()
    assert 'id="engine-lab2"' in page and "env=test" in page and "The lab, again" in page
    assert "set by DOCKER_HOST" in page  # the environment engine, beside it
    switcher = admin_client.get(reverse("container_list", args=["lab2"])).content.decode()
    assert f'href="{reverse("dashboard", args=["lab2"])}"' in switcher.split('id="engine-switcher"')[1]
    event = AuditEvent.objects.get(action="engine.add")
    assert (event.actor_name, event.target, event.outcome, event.engine) == ("ada", "lab2", "succeeded", "")
    assert event.params["url"] == lab_socket and event.params["kind"] == "unix"


def test_it_tests_the_form_values_before_saving_and_shows_the_engine_version(admin_client, lab_socket):
    version = core.client("local").version()
    response = admin_client.post(reverse("engine_test_new"), _fields(name="lab2", url=lab_socket))
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Docker Engine <strong>{version['Version']}</strong>, API {version['ApiVersion']}" in page
    assert "ping answered in" in page
    assert not Engine.objects.filter(name="lab2").exists()
    event = AuditEvent.objects.get(action="engine.test")
    assert (event.target, event.outcome, event.params["url"]) == ("lab2", "succeeded", lab_socket)


def test_it_answers_a_test_from_htmx_with_the_result_alone(admin_client, lab_socket):
    response = admin_client.post(reverse("engine_test_new"), _fields(url=lab_socket), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="test-result"') and "<html" not in page
    assert 'id="probe-ok"' in page


def test_it_says_why_a_test_fails(admin_client, tmp_path):
    response = admin_client.post(reverse("engine_test_new"), _fields(url=f"unix://{tmp_path}/none.sock"))
    assert 'id="probe-failed"' in response.content.decode()
    assert AuditEvent.objects.get(action="engine.test").outcome == "failed"
    refused = admin_client.post(reverse("engine_test_new"), _fields(url="http://example.net"))
    assert "Fix the form first" in refused.content.decode()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"url": "http://docker.example.net:2375"}, "Use unix:///path/to/docker.sock, tcp://host:port (with TLS)"),
        ({"url": "tcp://127.0.0.1:2375"}, "Plain tcp:// without TLS lets anyone on the network path drive"),
        ({"url": "ssh://docker.example.net"}, "An ssh address names the user"),
        ({"url": "unix:///run/docker.sock", "labels": "env prod"}, "“env prod” is not key=value."),
        ({"url": "tcp://h:2376", "tls_cert": "not a certificate"}, "The client certificate is not PEM"),
        ({"url": "tcp://h:2376", "tls_ca": "-----BEGIN " + "A" * 20_000}, "at most 20000 are accepted"),
        ({"url": "unix:///run/docker.sock", "name": "new"}, "is a page of the Engines list"),
        ({"url": "unix:///run/docker.sock", "name": "local"}, "An engine named local already exists."),
    ],
)
def test_it_refuses_bad_values_with_a_message_and_saves_nothing(admin_client, values, message):
    before = Engine.objects.count()
    response = _add(admin_client, **{"name": "other", **values})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Engine.objects.count() == before
    assert AuditEvent.objects.get(action="engine.add").outcome == "failed"


def test_it_takes_plain_tcp_only_when_told_it_is_insecure(admin_client):
    assert _add(admin_client, name="plain", url="tcp://127.0.0.1:2375", insecure="on").status_code == 302
    row = Engine.objects.get(name="plain")
    assert (row.kind, row.insecure) == ("tcp", True)
    assert "tcp-insecure" in admin_client.get(reverse("engine_list")).content.decode()


def test_an_edit_keeps_the_stored_key_when_left_blank_and_never_shows_it(admin_client):
    _add(admin_client, name="tls", url="tcp://127.0.0.1:2376", tls_ca=CA, tls_cert=CERT, tls_key=KEY)
    row = Engine.objects.get(name="tls")
    assert KEY_BODY not in row.tls_key and crypto.decrypt(row.tls_key, KEY_PURPOSE).strip() == KEY
    form = admin_client.get(reverse("engine_edit", args=["tls"])).content.decode()
    assert KEY_BODY not in form and "MIIBcert" in form and "A key is stored." in form

    response = admin_client.post(
        reverse("engine_edit", args=["tls"]),
        _fields(description="Edited", url="tcp://127.0.0.1:2376", tls_ca=CA, tls_cert=CERT),
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.description == "Edited" and row.revision == 2
    assert crypto.decrypt(row.tls_key, KEY_PURPOSE).strip() == KEY
    # A refused edit renders the form again: still without the key, not even the one just posted.
    refused = admin_client.post(reverse("engine_edit", args=["tls"]), _fields(url="gopher://x", tls_key=KEY))
    assert refused.status_code == 400 and KEY_BODY not in refused.content.decode()
    for event in AuditEvent.objects.filter(action__startswith="engine."):
        assert KEY_BODY not in event.canonical().decode()
    assert AuditEvent.objects.filter(action="engine.add").get().params["tls_private"] == "set"


def test_a_new_key_replaces_the_stored_one_and_the_trail_says_so_without_it(admin_client):
    _add(admin_client, name="tls", url="tcp://127.0.0.1:2376", tls_ca=CA, tls_cert=CERT, tls_key=KEY)
    new_key = KEY.replace("C7VJ", "D8WK")
    admin_client.post(
        reverse("engine_edit", args=["tls"]),
        _fields(url="tcp://127.0.0.1:2376", tls_ca=CA, tls_cert=CERT, tls_key=new_key),
    )
    row = Engine.objects.get(name="tls")
    assert crypto.decrypt(row.tls_key, KEY_PURPOSE).strip() == new_key
    event = AuditEvent.objects.get(action="engine.change")
    assert event.params == {"tls_private": "replaced", "revision": 2}


def test_the_name_never_changes_on_an_edit(admin_client, lab_socket):
    _add(admin_client, name="lab2", url=lab_socket)
    admin_client.post(reverse("engine_edit", args=["lab2"]), _fields(name="renamed", url=lab_socket, description="x"))
    assert Engine.objects.filter(name="lab2", description="x").exists()
    assert not Engine.objects.filter(name="renamed").exists()


def test_a_new_ssh_host_or_port_clears_the_pinned_host_key(admin_client):
    pin = PIN
    Engine.objects.create(name="remote", url="ssh://ops@host-a:2222", ssh_host_key=pin)
    assert "SHA256:" in admin_client.get(reverse("engine_list")).content.decode()
    edit = reverse("engine_edit", args=["remote"])
    admin_client.post(edit, _fields(url="ssh://deploy@host-a:2222", description="same host"))
    assert Engine.objects.get(name="remote").ssh_host_key == pin
    admin_client.post(edit, _fields(url="ssh://deploy@host-b:2222"))
    row = Engine.objects.get(name="remote")
    assert row.ssh_host_key == "" and row.revision == 3
    last_change = AuditEvent.objects.filter(action="engine.change").order_by("id").last()
    assert last_change.params["ssh_host_fingerprint"] == "cleared"
    # An offered key, accepted, is pinned on saving.
    admin_client.post(edit, _fields(url="ssh://deploy@host-b:2222", host_key=pin, accept_host_key="on"))
    assert Engine.objects.get(name="remote").ssh_host_key == pin


def test_the_environment_engine_keeps_its_address_and_cannot_be_removed(admin_client):
    form = admin_client.get(reverse("engine_edit", args=["local"])).content.decode()
    assert "set by DOCKER_HOST" in form and 'name="url"' not in form
    admin_client.post(
        reverse("engine_edit", args=["local"]), _fields(url="tcp://evil:2375", insecure="on", description="Here")
    )
    row = Engine.objects.get(name="local")
    assert (row.url, row.insecure, row.description, row.from_environment) == ("", False, "Here", True)
    response = admin_client.post(reverse("engine_remove", args=["local"]), follow=True)
    assert "is set by DOCKER_HOST" in response.content.decode()
    assert Engine.objects.filter(name="local").exists()
    assert AuditEvent.objects.get(action="engine.remove").outcome == "failed"


def test_removal_asks_first_then_the_engine_is_gone_and_its_jobs_stay(admin_client, lab_socket):
    _add(admin_client, name="lab2", url=lab_socket)
    Job.objects.create(kind="pull", engine="lab2", requested_by_name="ada", state=Job.State.SUCCEEDED)
    confirm = admin_client.get(reverse("engine_remove", args=["lab2"])).content.decode()
    assert "Remove the engine lab2" in confirm and "Its 1 job and its audit events stay in the trail." in confirm
    assert Engine.objects.filter(name="lab2").exists()
    response = admin_client.post(reverse("engine_remove", args=["lab2"]))
    assert response.status_code == 302
    assert not Engine.objects.filter(name="lab2").exists()
    assert Job.objects.filter(engine="lab2").count() == 1
    assert admin_client.get(reverse("container_list", args=["lab2"])).status_code == 404
    assert admin_client.get(reverse("dashboard", args=["lab2"])).status_code == 404
    event = AuditEvent.objects.get(action="engine.remove")
    assert (event.target, event.outcome, event.params["jobs_kept"]) == ("lab2", "succeeded", 1)


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_viewers_and_operators_are_refused_and_the_refusal_is_recorded(request, who, lab_socket):
    client = request.getfixturevalue(who)
    assert client.get(reverse("engine_list")).status_code == 403
    assert client.post(reverse("engine_add"), _fields(name="lab2", url=lab_socket)).status_code == 403
    assert client.post(reverse("engine_remove", args=["local"])).status_code == 403
    assert client.post(reverse("engine_test_new"), _fields(url=lab_socket)).status_code == 403
    assert not Engine.objects.filter(name="lab2").exists() and Engine.objects.filter(name="local").exists()
    denied = AuditEvent.objects.filter(outcome="denied").order_by("id")
    assert [e.action for e in denied] == ["engine.list", "engine.add", "engine.remove", "engine.test"]
    assert "Engines" not in client.get(reverse("fleet")).content.decode().split("<main>")[0]


def test_it_refuses_other_methods(admin_client):
    assert admin_client.get(reverse("engine_test_new")).status_code == 405
    assert admin_client.post(reverse("engine_list")).status_code == 405
    assert admin_client.delete(reverse("engine_remove", args=["local"])).status_code == 405


def test_a_first_test_of_an_ssh_engine_offers_its_host_key_to_accept(admin_client, monkeypatch):
    # The lab has no sshd: the host key the engine's host would present stands in for it.
    offered = SimpleNamespace(type="ssh-ed25519", base64=PIN.split()[1], fingerprint="SHA256:abcdefFINGERPRINT")
    asked = []
    monkeypatch.setattr("console.engines.views.connections.host_key", lambda url, timeout: asked.append(url) or offered)
    test = reverse("engine_test_new")
    response = admin_client.post(test, _fields(url="ssh://ops@host-a:2222"), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert asked == ["ssh://ops@host-a:2222"]
    assert "SHA256:abcdefFINGERPRINT" in page and f'name="host_key" value="{PIN}"' in page
    assert 'name="accept_host_key"' in page and "checked" not in page
    event = AuditEvent.objects.get(action="engine.test")
    assert event.params == {"offered": "SHA256:abcdefFINGERPRINT", "url": "ssh://ops@host-a:2222"}

    # Saved with the key accepted, the engine pins it; saved without, it pins nothing.
    values = _fields(name="remote", url="ssh://ops@host-a:2222", host_key=PIN, accept_host_key="on")
    assert admin_client.post(reverse("engine_add"), values).status_code == 302
    assert Engine.objects.get(name="remote").ssh_host_key == PIN
    assert _add(admin_client, name="remote2", url="ssh://ops@host-a:2222", host_key=PIN).status_code == 302
    assert Engine.objects.get(name="remote2").ssh_host_key == ""
