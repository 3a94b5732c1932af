"""Users and roles change only on the Users page, each change recorded: there is no admin site, no URL
changes a user without an audit event, two Admins demoting each other at once leave an Admin, only a
superuser changes a superuser, and look-alike usernames are refused."""

import re
import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from console.accounts import roles
from console.accounts.roles import ADMIN, VIEWER, assigned_role
from console.audit.models import AuditEvent
from tests.conftest import PASSWORD, _client_for, make_user

pytestmark = pytest.mark.security


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root", password=PASSWORD)


def test_there_is_no_admin_site(root):
    client = _client_for(root)
    for path in ("/admin/", "/admin/auth/user/", f"/admin/auth/user/{root.pk}/change/"):
        assert client.get(path).status_code == 404
        assert client.post(path, {"is_superuser": "on"}).status_code == 404


def _routes(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _users() -> dict[int, tuple]:
    """What a change to a user is: anything but the time of the last sign-in."""
    return {
        u.pk: (u.username, u.password, u.is_active, u.is_staff, u.is_superuser, sorted(g.name for g in u.groups.all()))
        for u in User.objects.prefetch_related("groups")
    }


def test_no_request_through_any_url_changes_a_user_without_an_audit_event(root, viewer, admin):
    # Every field a form for users, roles or passwords could read, with values that would change something.
    post = {
        "username": "newbie",
        "password": "a long enough secret 42",
        "password1": "a long enough secret 43",
        "password2": "a long enough secret 43",
        "role": ADMIN,
        "is_superuser": "on",
        "is_staff": "on",
        "post": "yes",
        "action": "delete_selected",
        "_selected_action": str(viewer.pk),
    }
    routes = [r for r in _routes() if "(?" not in r]  # a regex route is a catch-all index (Django's admin had one)
    assert len(routes) >= 20
    # Each request in a session of its own; one client, so the middleware (WhiteNoise's file table) loads once.
    client = Client()
    for route in routes:
        # ids (of users, or of anything in Django's admin) are vera's; other names a word
        path = re.sub(r"<(?:int|path):\w*(?:id|pk)\w*>", str(viewer.pk), route)
        path = "/" + re.sub(r"<(?:int:|str:|slug:|path:)?\w+>", "abc", path)
        for method in ("get", "post"):
            before, last_event = _users(), AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            client.cookies.clear()
            client.force_login(root)
            getattr(client, method)(path, post if method == "post" else {})
            after = _users()
            changed = {pk for pk in before.keys() | after.keys() if before.get(pk) != after.get(pk)}
            recorded = set(
                AuditEvent.objects.filter(id__gt=last_event, outcome="succeeded").values_list("target_id", flat=True)
            )
            assert {str(pk) for pk in changed} <= recorded, (method, path, changed)


def test_two_admins_demoting_each_other_at_once_leave_an_admin(transactional_db, monkeypatch):
    ada, alan = make_user("ada", ADMIN), make_user("alan", ADMIN)
    clients = {ada: _client_for(ada), alan: _client_for(alan)}
    # Both requests pass the role check before either changes anything: the race, every time.
    meet, real_has_role, passed = threading.Barrier(2, timeout=30), roles.has_role, threading.local()

    def has_role_then_meet(user, needed, engine_name=None):
        allowed = real_has_role(user, needed, engine_name)
        if not getattr(passed, "role_check", False):
            passed.role_check = True
            meet.wait()
        return allowed

    monkeypatch.setattr(roles, "has_role", has_role_then_meet)
    responses = {}

    def demote(actor: User, other: User):
        try:
            responses[actor.username] = clients[actor].post(
                reverse("user_role", args=[other.pk]), {"role": VIEWER}, follow=True
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=pair) for pair in ((ada, alan), (alan, ada))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    admins = [u.username for u in User.objects.filter(is_active=True) if assigned_role(u) == ADMIN]
    assert len(admins) == 1
    loser = ({"ada", "alan"} - set(admins)).pop()
    assert "You are no longer an active Admin; nothing was changed." in responses[loser].content.decode()
    changes = AuditEvent.objects.filter(action="role.change").order_by("id")
    assert [(e.actor_name, e.outcome) for e in changes] == [(admins[0], "succeeded"), (loser, "failed")]


def test_a_plain_admin_cannot_deactivate_demote_or_reactivate_a_superuser(admin_client, root):
    page = admin_client.get(reverse("user_list")).content.decode()
    assert reverse("user_deactivate", args=[root.pk]) not in page
    response = admin_client.post(reverse("user_deactivate", args=[root.pk]), follow=True)
    assert "root is a superuser; only a superuser can change a superuser." in response.content.decode()
    admin_client.post(reverse("user_role", args=[root.pk]), {"role": VIEWER})
    root.refresh_from_db()
    assert root.is_active and assigned_role(root) == ADMIN
    User.objects.filter(pk=root.pk).update(is_active=False)
    admin_client.post(reverse("user_reactivate", args=[root.pk]))
    assert not User.objects.get(pk=root.pk).is_active
    refusals = AuditEvent.objects.filter(target="root").order_by("id")
    assert [(e.action, e.outcome) for e in refusals] == [
        ("user.deactivate", "failed"),
        ("role.change", "failed"),
        ("user.reactivate", "failed"),
    ]


def test_a_superuser_can_deactivate_another_superuser(root):
    other = User.objects.create_superuser("root2", password=PASSWORD)
    response = _client_for(root).post(reverse("user_deactivate", args=[other.pk]), follow=True)
    assert "Deactivated root2" in response.content.decode()
    assert not User.objects.get(pk=other.pk).is_active


@pytest.mark.parametrize(
    ("username", "why"),
    [
        ("\u0430da", "Cyrillic a beside ada"),
        ("\uff41\uff44\uff41", "full-width ada"),
        ("v\u0435ra", "Latin and Cyrillic mixed"),
        ("ad\u0430", "Cyrillic a at the end"),
        ("ada\u200b", "zero-width space"),
    ],
)
def test_a_look_alike_username_is_refused(admin_client, viewer, username, why):
    response = admin_client.post(reverse("user_create"), {"username": username, "password": PASSWORD, "role": ADMIN})
    assert response.status_code == 400, why
    assert "Use only ASCII letters, digits and . _ - in a username" in response.content.decode()
    assert User.objects.count() == 2
    assert AuditEvent.objects.get(action="user.create").outcome == "failed"


def test_a_name_that_folds_to_an_existing_one_is_refused(admin_client):
    User.objects.create_user("\uff52\uff4f\uff4f\uff54", password=PASSWORD)  # "ｒｏｏｔ", as createsuperuser allows
    response = admin_client.post(reverse("user_create"), {"username": "ROOT", "password": PASSWORD, "role": VIEWER})
    assert response.status_code == 400
    assert "A user with that username (or one that looks the same) already exists." in response.content.decode()
    assert not User.objects.filter(username="ROOT").exists()
