"""Each role's allowed and forbidden actions. A refusal is a 403 page naming the role needed,
it is recorded as a denial with its reason, and nothing changes.

The role each action needs is the one the role table (tests/test_accounts_url_roles.py) gives its URL;
later features add their endpoints to ENDPOINTS."""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from console.accounts.roles import ADMIN, OPERATOR, VIEWER, role_of
from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import PASSWORD, make_user
from tests.test_accounts_url_roles import TABLE


def _queued_job() -> Job:
    return Job.objects.create(kind="system.df", engine="local", target="disk usage", requested_by_name="otto")


def _sam(active: bool = True) -> User:
    user = make_user("sam", VIEWER)
    if not active:
        User.objects.filter(pk=user.pk).update(is_active=False)
    return user


@dataclass
class Endpoint:
    action: str  # as a refusal is recorded
    url_name: str  # its entry in the role table
    prepare: Callable[[], str]  # makes what the request acts on, returns the URL
    changed: Callable[[], bool]  # whether the request changed anything
    data: dict = field(default_factory=dict)

    @property
    def needed(self) -> str:
        """The lowest role allowed."""
        return TABLE[self.url_name][1]


ENDPOINTS = [
    Endpoint(
        "system.df",
        "system_disk_refresh",
        lambda: reverse("system_disk_refresh", args=["local"]),
        lambda: Job.objects.exists(),
    ),
    Endpoint(
        "job.cancel",
        "job_cancel",
        lambda: reverse("job_cancel", args=[_queued_job().pk]),
        lambda: Job.objects.get().state != "queued",
    ),
    Endpoint(
        "user.create",
        "user_create",
        lambda: reverse("user_create"),
        lambda: User.objects.filter(username="newbie").exists(),
        {"username": "newbie", "password": PASSWORD, "role": OPERATOR},
    ),
    Endpoint(
        "role.change",
        "user_role",
        lambda: reverse("user_role", args=[_sam().pk]),
        lambda: role_of(User.objects.get(username="sam")) != VIEWER,
        {"role": OPERATOR},
    ),
    Endpoint(
        "user.deactivate",
        "user_deactivate",
        lambda: reverse("user_deactivate", args=[_sam().pk]),
        lambda: not User.objects.get(username="sam").is_active,
    ),
    Endpoint(
        "user.reactivate",
        "user_reactivate",
        lambda: reverse("user_reactivate", args=[_sam(active=False).pk]),
        lambda: User.objects.get(username="sam").is_active,
    ),
]
RANK = {VIEWER: 1, OPERATOR: 2, ADMIN: 3}


@pytest.fixture
def client_of(viewer_client, operator_client, admin_client):
    return {VIEWER: viewer_client, OPERATOR: operator_client, ADMIN: admin_client}


@pytest.mark.parametrize("role", [VIEWER, OPERATOR, ADMIN])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.action for e in ENDPOINTS])
def test_it_allows_each_action_only_to_the_roles_that_may_do_it(client_of, role, endpoint):
    url = endpoint.prepare()
    response = client_of[role].post(url, endpoint.data)
    denials = AuditEvent.objects.filter(outcome="denied")
    if RANK[role] >= RANK[endpoint.needed]:
        assert response.status_code == 302, response.content.decode()[:500]
        assert endpoint.changed()
        assert not denials.exists()
    else:
        assert response.status_code == 403
        page = response.content.decode()
        assert f"This needs the <strong>{endpoint.needed}</strong> role" in page
        assert f"You have <strong>{role}</strong>" in page
        assert not endpoint.changed()
        denial = denials.get()
        assert denial.action == endpoint.action
        assert denial.actor_name == {VIEWER: "vera", OPERATOR: "otto"}[role]
        where = f" on the engine {denial.engine}" if denial.engine else ""
        assert denial.error == f"needs the {endpoint.needed} role{where}; {denial.actor_name} has {role}"
        assert denial.source_ip == "127.0.0.1"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.action for e in ENDPOINTS])
def test_it_refuses_a_get_for_every_action(admin_client, endpoint):
    response = admin_client.get(endpoint.prepare())
    assert response.status_code == 405
    assert not endpoint.changed()


@pytest.mark.parametrize("role", [VIEWER, OPERATOR])
def test_it_shows_the_users_page_only_to_admins_and_records_the_refusal(client_of, role):
    response = client_of[role].get(reverse("user_list"))
    assert response.status_code == 403
    assert b"This needs the <strong>Admin</strong> role" in response.content
    denial = AuditEvent.objects.get(outcome="denied")
    assert (denial.action, denial.outcome, denial.target) == ("user.list", "denied", "/users/")
    assert client_of[ADMIN].get(reverse("user_list")).status_code == 200


@pytest.mark.parametrize(
    "url_name, args",
    [("fleet", []), ("dashboard", ["local"]), ("image_list", ["local"]), ("container_list", ["local"])]
    + [("job_list", []), ("audit_list", []), ("system", ["local"])],
)
def test_a_viewer_sees_every_page(viewer_client, url_name, args):
    assert viewer_client.get(reverse(url_name, args=args)).status_code == 200


def test_a_signed_in_user_without_a_role_may_change_nothing(db):
    nobody = make_user("nora", None)
    client = Client()
    client.force_login(nobody)
    # Without a role anywhere, no engine exists for them: its pages answer 404, as an unknown engine's do.
    response = client.post(reverse("system_disk_refresh", args=["local"]))
    assert response.status_code == 404
    assert not Job.objects.exists()
    response = client.get(reverse("fleet"))
    assert response.status_code == 403
    assert b"You have <strong>no role</strong>" in response.content


def test_it_hides_buttons_a_role_cannot_use(client_of):
    system_pages = {
        role: client.get(reverse("system", args=["local"])).content.decode() for role, client in client_of.items()
    }
    job = _queued_job()
    shown = {}
    for role, client in client_of.items():
        pages = system_pages[role] + client.get(reverse("job_detail", args=[job.pk])).content.decode()
        shown[role] = {
            "users": 'href="/users/"' in pages,
            "disk": reverse("system_disk_refresh", args=["local"]) in pages,
            "cancel": reverse("job_cancel", args=[job.pk]) in pages,
        }
    assert shown[VIEWER] == {"users": False, "disk": False, "cancel": False}
    assert shown[OPERATOR] == {"users": False, "disk": True, "cancel": True}
    assert shown[ADMIN] == {"users": True, "disk": True, "cancel": True}


def test_a_superuser_is_an_admin(db):
    root = User.objects.create_superuser("root", password=PASSWORD)
    assert role_of(root) == ADMIN
    client = Client()
    client.force_login(root)
    assert client.get(reverse("user_list")).status_code == 200
