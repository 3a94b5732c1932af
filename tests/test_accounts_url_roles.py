"""Every URL the console serves has an entry in this table of the role it needs: no view
without an entry, no default-allow. Each is checked against a user one role short; on an engine's
pages a user without any role does not see the engine at all (404, so its name does not leak)."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLResolver, get_resolver

from console.audit.models import AuditEvent
from console.engines.models import Engine, EngineRole
from console.jobs.models import Job
from tests.conftest import make_user

pytestmark = pytest.mark.hardening

PUBLIC = "public"
SIGNED_IN = "signed in"
NO_ROLE, VIEWER, OPERATOR, ADMIN = None, "Viewer", "Operator", "Admin"

# url name: (method, role needed)
TABLE = {
    "login": ("GET", PUBLIC),
    "healthz": ("GET", PUBLIC),
    "logout": ("POST", SIGNED_IN),
    "fleet": ("GET", VIEWER),
    "old_address": ("GET", VIEWER),
    "drift": ("GET", VIEWER),
    "engine_list": ("GET", ADMIN),
    "engine_add": ("POST", ADMIN),
    "engine_test_new": ("POST", ADMIN),
    "engine_edit": ("POST", ADMIN),
    "engine_test": ("POST", ADMIN),
    "engine_remove": ("POST", ADMIN),
    "dashboard": ("GET", VIEWER),
    "image_list": ("GET", VIEWER),
    "image_pull": ("GET", VIEWER),
    "image_pull_start": ("POST", OPERATOR),
    "image_remove": ("GET", VIEWER),
    "image_remove_confirm": ("POST", OPERATOR),
    "image_prune": ("POST", OPERATOR),
    "registry_list": ("GET", ADMIN),
    "registry_save": ("POST", ADMIN),
    "registry_delete": ("POST", ADMIN),
    "image_detail": ("GET", VIEWER),
    "image_tag": ("POST", OPERATOR),
    "container_list": ("GET", VIEWER),
    "container_run": ("POST", OPERATOR),
    "container_bulk": ("POST", OPERATOR),
    "container_detail": ("GET", VIEWER),
    "container_logs": ("GET", VIEWER),
    "container_logs_download": ("GET", VIEWER),
    "container_stats": ("GET", VIEWER),
    "container_top": ("GET", VIEWER),
    "container_exec": ("POST", OPERATOR),
    "container_start": ("POST", OPERATOR),
    "container_stop": ("POST", OPERATOR),
    "container_restart": ("POST", OPERATOR),
    "container_kill": ("POST", OPERATOR),
    "container_pause": ("POST", OPERATOR),
    "container_unpause": ("POST", OPERATOR),
    "container_rename": ("POST", OPERATOR),
    "container_remove": ("POST", OPERATOR),
    "job_list": ("GET", VIEWER),
    "job_detail": ("GET", VIEWER),
    "job_cancel": ("POST", OPERATOR),
    "audit_list": ("GET", VIEWER),
    "audit_detail": ("GET", VIEWER),
    "audit_export": ("GET", VIEWER),
    "system": ("GET", VIEWER),
    "system_disk_refresh": ("POST", OPERATOR),
    "system_events": ("GET", VIEWER),
    "user_list": ("GET", ADMIN),
    "user_create": ("POST", ADMIN),
    "user_role": ("POST", ADMIN),
    "user_engine_roles": ("POST", ADMIN),
    "user_deactivate": ("POST", ADMIN),
    "user_reactivate": ("POST", ADMIN),
    "network_list": ("GET", VIEWER),
    "network_create": ("POST", OPERATOR),
    "network_prune": ("POST", OPERATOR),
    "network_detail": ("GET", VIEWER),
    "network_remove": ("POST", OPERATOR),
    "network_connect": ("POST", OPERATOR),
    "network_disconnect": ("POST", OPERATOR),
    "volume_list": ("GET", VIEWER),
    "volume_create": ("POST", OPERATOR),
    "volume_prune": ("POST", OPERATOR),
    "volume_detail": ("GET", VIEWER),
    "volume_remove": ("POST", OPERATOR),
    "image_update_check": ("POST", OPERATOR),
    "image_update": ("POST", OPERATOR),
    "container_update": ("POST", OPERATOR),
    "container_terminal": ("GET", OPERATOR),
    "terminal_recording": ("GET", VIEWER),
    "terminal_recording_download": ("GET", VIEWER),
}
ONE_SHORT = {VIEWER: NO_ROLE, OPERATOR: VIEWER, ADMIN: OPERATOR}


def console_patterns(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from console_patterns(p, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern), p


# Routes that are patterns rather than paths, by name: an address they answer.
SAMPLES = {"old_address": "/containers/"}


def sample(route: str, name: str) -> str:
    if name in SAMPLES:
        return SAMPLES[name]
    path = re.sub(r"<int:\w+>", "1", route)
    path = re.sub(r"<str:fmt>", "csv", path)
    path = re.sub(r"<slug:engine>", settings.ENGINE_NAME, path)
    return "/" + re.sub(r"<(?:\w+:)?\w+>", "0123456789ab", path)


def engine_scoped(route: str) -> bool:
    return "<slug:engine>" in route


def test_every_url_has_an_entry_and_every_entry_a_url():
    names = [p.name for _, p in console_patterns()]
    assert all(names), "every URL pattern has a name"
    assert sorted(set(names) - set(TABLE)) == [], "URLs without an entry in the role table"
    assert sorted(set(TABLE) - set(names)) == [], "entries for URLs that do not exist"


def test_each_view_declares_the_role_of_its_entry():
    for _, pattern in console_patterns():
        method, role = TABLE[pattern.name]
        declared = getattr(pattern.callback, "required_role", None)
        if role in (OPERATOR, ADMIN):
            assert declared == role, pattern.name
        else:
            assert declared in (None, VIEWER), pattern.name


@pytest.mark.django_db
def test_a_user_one_role_short_is_refused_everywhere_and_each_refusal_is_recorded():
    users = {role: make_user(f"user-{(role or 'none').lower()}", role) for role in (NO_ROLE, VIEWER, OPERATOR)}
    # On an engine's pages the role on that engine counts: these are Admins elsewhere, one role short there.
    local = Engine.objects.ensure_environment()
    on_engine = {}
    for role in (NO_ROLE, VIEWER, OPERATOR):
        on_engine[role] = make_user(f"admin-but-{(role or 'none').lower()}-on-local", ADMIN)
        EngineRole.objects.create(user=on_engine[role], engine=local, role=role or "")
    # A job's pages find the job first, then check the role on its engine.
    Job.objects.create(pk=1, kind="pull", engine=settings.ENGINE_NAME, requested_by_name="ada")
    checked = 0
    # Each request in a session of its own; one client, so the middleware (WhiteNoise's file table) loads once.
    client = Client()
    for route, pattern in console_patterns():
        method, role = TABLE[pattern.name]
        if role in (PUBLIC, SIGNED_IN):
            continue
        scoped = engine_scoped(route)
        client.cookies.clear()
        client.force_login((on_engine if scoped else users)[ONE_SHORT[role]])
        before = AuditEvent.objects.filter(outcome="denied").count()
        path = sample(route, pattern.name)
        response = getattr(client, method.lower())(path)
        if scoped and ONE_SHORT[role] is NO_ROLE:
            # No role on the engine: it does not exist for them, exactly as an unknown engine does.
            assert response.status_code == 404, (pattern.name, response.status_code)
            assert client.get(path.replace(f"/{local.name}/", "/no-such-engine/")).status_code == 404
            assert AuditEvent.objects.filter(outcome="denied").count() == before, pattern.name
        else:
            assert response.status_code == 403, (pattern.name, response.status_code)
            assert f"This needs the <strong>{role}</strong> role" in response.content.decode(), pattern.name
            assert AuditEvent.objects.filter(outcome="denied").count() == before + 1, pattern.name
        checked += 1
    assert checked == len([v for v in TABLE.values() if v[1] not in (PUBLIC, SIGNED_IN)])


@pytest.mark.django_db
def test_a_user_without_a_role_can_still_sign_out(client):
    client.force_login(make_user("nora", NO_ROLE))
    assert client.get("/").status_code == 403
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
