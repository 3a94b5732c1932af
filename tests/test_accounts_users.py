"""Admins manage users and roles on the Users page; every change is recorded."""

from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from console.accounts.roles import OPERATOR, VIEWER, role_of
from console.audit.models import AuditEvent
from tests.conftest import PASSWORD, make_user


def _sign_in(username: str, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:300]
    return client


def test_it_lists_users_with_their_roles(admin_client, viewer, operator):
    User.objects.filter(pk=viewer.pk).update(is_active=False)
    page = admin_client.get(reverse("user_list")).content.decode()
    assert "vera" in page and "otto" in page and "ada" in page
    assert "deactivated" in page
    assert f'action="{reverse("user_reactivate", args=[viewer.pk])}"' in page
    assert f'action="{reverse("user_deactivate", args=[operator.pk])}"' in page
    assert '<option value="Operator" selected>' in page


def test_an_admin_creates_a_user_who_can_then_sign_in(admin_client):
    response = admin_client.post(
        reverse("user_create"), {"username": "newbie", "password": "a long enough secret 42", "role": OPERATOR}
    )
    assert response.status_code == 302 and response["Location"] == reverse("user_list")
    newbie = User.objects.get(username="newbie")
    assert role_of(newbie) == OPERATOR
    event = AuditEvent.objects.get(action="user.create")
    assert (event.actor_name, event.target, event.outcome, event.target_id) == (
        "ada",
        "newbie",
        "succeeded",
        str(newbie.pk),
    )
    assert event.params == {"role": OPERATOR}
    assert "a long enough secret" not in event.canonical().decode()
    assert _sign_in("newbie", "a long enough secret 42").get(reverse("system", args=["local"])).status_code == 200


def test_it_refuses_a_weak_password_or_a_taken_name_and_creates_nobody(admin_client, viewer):
    weak = admin_client.post(reverse("user_create"), {"username": "newbie", "password": "zqx", "role": VIEWER})
    assert weak.status_code == 400
    assert "This password is too short" in weak.content.decode()
    taken = admin_client.post(reverse("user_create"), {"username": "VERA", "password": PASSWORD, "role": VIEWER})
    assert taken.status_code == 400
    assert "A user with that username (or one that looks the same) already exists." in taken.content.decode()
    assert not User.objects.filter(username__in=["newbie", "VERA"]).exists()
    failures = AuditEvent.objects.filter(action="user.create", outcome="failed").order_by("id")
    assert [e.target for e in failures] == ["newbie", "VERA"]
    assert all("zqx" not in e.canonical().decode() for e in failures)  # not hex, nor in any word recorded


def test_an_admin_changes_a_role_and_the_change_is_recorded_with_old_and_new(admin_client, viewer):
    response = admin_client.post(reverse("user_role", args=[viewer.pk]), {"role": OPERATOR}, follow=True)
    assert "vera is now Operator (was Viewer)." in response.content.decode()
    assert role_of(User.objects.get(pk=viewer.pk)) == OPERATOR
    event = AuditEvent.objects.get(action="role.change")
    assert (event.actor_name, event.target, event.outcome) == ("ada", "vera", "succeeded")
    assert event.params == {"old_role": VIEWER, "new_role": OPERATOR}
    # The new role counts on vera's very next request.
    vera = Client()
    vera.force_login(viewer)
    assert vera.post(reverse("system_disk_refresh", args=["local"])).status_code == 302


def test_it_refuses_an_unknown_role_and_changes_nothing(admin_client, viewer):
    response = admin_client.post(reverse("user_role", args=[viewer.pk]), {"role": "Root"}, follow=True)
    assert "Choose one of the roles" in response.content.decode()
    assert role_of(User.objects.get(pk=viewer.pk)) == VIEWER
    assert AuditEvent.objects.get(action="role.change").outcome == "failed"


def test_an_admin_cannot_demote_or_deactivate_themselves(admin_client, admin):
    demote = admin_client.post(reverse("user_role", args=[admin.pk]), {"role": VIEWER}, follow=True)
    assert "You cannot change your own role" in demote.content.decode()
    deactivate = admin_client.post(reverse("user_deactivate", args=[admin.pk]), follow=True)
    assert "You cannot deactivate yourself" in deactivate.content.decode()
    admin.refresh_from_db()
    assert admin.is_active and role_of(admin) == "Admin"
    assert list(AuditEvent.objects.filter(outcome="failed").values_list("action", flat=True).order_by("id")) == [
        "role.change",
        "user.deactivate",
    ]


def test_deactivating_a_user_ends_their_sessions_at_once(admin_client, viewer, operator):
    vera_laptop, vera_phone, otto = _sign_in("vera"), _sign_in("vera"), _sign_in("otto")
    assert vera_laptop.get(reverse("system", args=["local"])).status_code == 200
    sessions_before = Session.objects.count()

    response = admin_client.post(reverse("user_deactivate", args=[viewer.pk]), follow=True)
    assert "Deactivated vera and signed them out (2 sessions ended)." in response.content.decode()
    assert Session.objects.count() == sessions_before - 2
    for client in (vera_laptop, vera_phone):
        response = client.get(reverse("system", args=["local"]))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert otto.get(reverse("system", args=["local"])).status_code == 200
    refused = Client().post(reverse("login"), {"username": "vera", "password": PASSWORD})
    assert refused.status_code == 200 and "did not match" in refused.content.decode()
    event = AuditEvent.objects.get(action="user.deactivate")
    assert (event.target, event.outcome, event.params) == ("vera", "succeeded", {"sessions_ended": 2})


def test_a_reactivated_user_signs_in_again(admin_client, viewer):
    admin_client.post(reverse("user_deactivate", args=[viewer.pk]))
    response = admin_client.post(reverse("user_reactivate", args=[viewer.pk]), follow=True)
    assert "Reactivated vera." in response.content.decode()
    assert _sign_in("vera").get(reverse("system", args=["local"])).status_code == 200
    assert AuditEvent.objects.get(action="user.reactivate").outcome == "succeeded"


def test_a_superusers_role_cannot_be_changed_from_the_page(admin_client):
    root = User.objects.create_superuser("root", password=PASSWORD)
    page = admin_client.get(reverse("user_list")).content.decode()
    assert reverse("user_role", args=[root.pk]) not in page
    response = admin_client.post(reverse("user_role", args=[root.pk]), {"role": VIEWER}, follow=True)
    assert "only a superuser can change a superuser" in response.content.decode()
    other_root = Client()
    other_root.force_login(User.objects.create_superuser("root2", password=PASSWORD))
    response = other_root.post(reverse("user_role", args=[root.pk]), {"role": VIEWER}, follow=True)
    assert "root is a superuser, and superusers are Admins." in response.content.decode()
    assert role_of(User.objects.get(pk=root.pk)) == "Admin"


def test_a_user_without_a_role_gets_one(admin_client):
    nora = make_user("nora", None)
    admin_client.post(reverse("user_role", args=[nora.pk]), {"role": VIEWER})
    assert AuditEvent.objects.get(action="role.change").params == {"old_role": "none", "new_role": VIEWER}
