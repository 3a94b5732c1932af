"""Admins give each user a role per engine on the Users page: default (the global role), Viewer, Operator,
Admin, or none, which hides the engine; the role on an engine is the one its pages, lists and actions use."""

import os

import pytest
from django.test import Client
from django.urls import reverse

from console.accounts.roles import OPERATOR, engine_role
from console.audit.models import AuditEvent
from console.engines.models import Engine, EngineRole
from tests.conftest import make_user


@pytest.fixture
def fleet(db) -> tuple[Engine, Engine]:
    """Two more engines, both the lab's engine under other names."""
    return (
        Engine.objects.create(name="alpha", url=os.environ["DOCKER_HOST"]),
        Engine.objects.create(name="beta", url=os.environ["DOCKER_HOST"]),
    )


@pytest.fixture
def vera_client(viewer) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


def _switcher(page: str) -> str:
    return page.split('id="engine-switcher"')[1].split("</details>")[0]


def test_it_shows_a_role_per_engine_for_each_user(admin_client, viewer, fleet):
    EngineRole.objects.create(user=viewer, engine=fleet[0], role=OPERATOR)
    EngineRole.objects.create(user=viewer, engine=fleet[1], role="")
    page = admin_client.get(reverse("user_list")).content.decode()
    form = page.split(f'id="engine-roles-{viewer.pk}"')[1].split("</form>")[0]
    assert '<select name="role-alpha"' in form and '<option value="Operator" selected>' in form
    assert '<option value="none" selected>none (hidden)</option>' in form
    assert '<option value="default" selected>default (Viewer)</option>' in form  # on local


def test_an_operator_on_one_engine_and_none_on_another_sees_and_acts_accordingly(
    admin_client, vera_client, viewer, fleet
):
    response = admin_client.post(
        reverse("user_engine_roles", args=[viewer.pk]), {"role-alpha": OPERATOR, "role-beta": "none"}, follow=True
    )
    assert "vera is now Operator on alpha (was default); none on beta (was default)." in response.content.decode()
    events = AuditEvent.objects.filter(action="role.change").order_by("id")
    assert [(e.engine, e.target, e.outcome, e.params) for e in events] == [
        ("alpha", "vera", "succeeded", {"role": OPERATOR, "was": "default"}),
        ("beta", "vera", "succeeded", {"role": "none", "was": "default"}),
    ]

    fleet_page = vera_client.get(reverse("fleet")).content.decode()
    assert reverse("dashboard", args=["alpha"]) in fleet_page and reverse("dashboard", args=["local"]) in fleet_page
    assert "beta" not in fleet_page
    containers = vera_client.get(reverse("container_list", args=["alpha"]))
    assert containers.status_code == 200
    assert "alpha" in _switcher(containers.content.decode()) and "beta" not in _switcher(containers.content.decode())
    assert vera_client.get(reverse("container_list", args=["beta"])).status_code == 404
    assert vera_client.get(reverse("system", args=["beta"])).status_code == 404
    assert vera_client.post(reverse("system_disk_refresh", args=["beta"])).status_code == 404

    # Operator on alpha; on local, her global role (Viewer): she reads there, and is refused actions.
    assert vera_client.post(reverse("system_disk_refresh", args=["alpha"])).status_code == 302
    assert vera_client.get(reverse("system", args=["local"])).status_code == 200
    refused = vera_client.post(reverse("system_disk_refresh", args=["local"]))
    assert refused.status_code == 403
    denied = AuditEvent.objects.get(outcome="denied")
    assert denied.engine == "local" and "needs the Operator role on the engine local" in denied.error


def test_back_to_default_removes_the_override(admin_client, viewer, fleet):
    EngineRole.objects.create(user=viewer, engine=fleet[1], role="")
    admin_client.post(reverse("user_engine_roles", args=[viewer.pk]), {"role-beta": "default", "role-alpha": "default"})
    assert not EngineRole.objects.filter(user=viewer).exists()
    assert engine_role(viewer, "beta") == "Viewer"
    event = AuditEvent.objects.get(action="role.change")
    assert (event.engine, event.params) == ("beta", {"role": "default", "was": "none"})


def test_it_refuses_an_unknown_role_and_changes_nothing(admin_client, viewer, fleet):
    response = admin_client.post(
        reverse("user_engine_roles", args=[viewer.pk]), {"role-alpha": OPERATOR, "role-beta": "Root"}, follow=True
    )
    assert "Choose default, Viewer, Operator, Admin or none on beta." in response.content.decode()
    assert not EngineRole.objects.exists()
    assert AuditEvent.objects.get(action="role.change").outcome == "failed"


def test_an_admin_cannot_change_their_own_engine_roles_nor_a_superusers(admin_client, admin, fleet):
    admin_client.post(reverse("user_engine_roles", args=[admin.pk]), {"role-alpha": "none"})
    root = make_user("root", None)
    root.is_superuser = True
    root.save()
    admin_client.post(reverse("user_engine_roles", args=[root.pk]), {"role-alpha": "none"})
    assert not EngineRole.objects.exists()
    assert [e.outcome for e in AuditEvent.objects.filter(action="role.change")] == ["failed", "failed"]


def test_a_demoted_admin_changes_no_engine_role(admin_client, admin, viewer, fleet):
    admin.groups.clear()
    admin.groups.add(*make_user("x", "Operator").groups.all())
    response = admin_client.post(reverse("user_engine_roles", args=[viewer.pk]), {"role-alpha": "Admin"})
    assert response.status_code == 403
    assert not EngineRole.objects.exists()


def test_only_admins_change_engine_roles_and_only_by_post(operator_client, admin_client, viewer, fleet):
    assert (
        operator_client.post(reverse("user_engine_roles", args=[viewer.pk]), {"role-alpha": "Admin"}).status_code == 403
    )
    assert not EngineRole.objects.exists()
    denied = AuditEvent.objects.get(outcome="denied")
    assert denied.action == "role.change"
    assert admin_client.get(reverse("user_engine_roles", args=[viewer.pk])).status_code == 405
