"""Sign-in: failures are throttled per username and per address, each failure and lock-out is
recorded, and sessions end after the configured idle time."""

import os
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from console.audit.models import AuditEvent
from tests.conftest import PASSWORD, ROOT

LIMIT = settings.AXES_FAILURE_LIMIT


def _attempt(username: str, password: str, address: str):
    return Client().post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def _signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("dashboard")


def _assert_locked_out(response, username: str):
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in locked" in page and f"Too many failed sign-ins for <strong>{username}</strong>" in page
    assert f"for {settings.AXES_COOLOFF_TIME * 60:.0f} minutes" in page


def test_it_locks_a_username_after_too_many_failures_even_with_the_right_password(viewer, operator):
    for i in range(LIMIT - 1):
        response = _attempt("vera", "wrong password", f"10.0.0.{i}")
        assert response.status_code == 200 and "did not match" in response.content.decode()
    _assert_locked_out(_attempt("vera", "wrong password", "10.0.0.99"), "vera")

    # From a fresh address, with the right password: still refused.
    refused = _attempt("vera", PASSWORD, "10.0.1.1")
    _assert_locked_out(refused, "vera")
    assert "_auth_user_id" not in refused.wsgi_request.session
    # The address is not locked: someone else signs in from it.
    assert _signed_in(_attempt("otto", PASSWORD, "10.0.1.1"))

    events = AuditEvent.objects.exclude(action="user.login").order_by("id")
    assert [(e.action, e.target, e.outcome) for e in events] == [
        *[("user.login_failed", "vera", "failed")] * LIMIT,
        ("user.locked_out", "vera", "denied"),
        ("user.locked_out", "vera", "denied"),
    ]
    assert [e.source_ip for e in events] == [f"10.0.0.{i}" for i in range(LIMIT - 1)] + ["10.0.0.99"] * 2 + ["10.0.1.1"]
    assert events[LIMIT].error == f"locked out after {LIMIT} failed sign-ins for this username or address (10.0.0.99)"
    assert events[LIMIT + 1].error == "sign-in refused: locked out after too many failed sign-ins (10.0.1.1)"


def test_it_locks_an_address_after_too_many_failures_with_any_username(viewer):
    for i in range(LIMIT):
        _attempt(f"guess{i}", "wrong password", "10.9.9.9")
    _assert_locked_out(_attempt("vera", PASSWORD, "10.9.9.9"), "vera")
    assert _signed_in(_attempt("vera", PASSWORD, "10.1.1.1"))
    assert AuditEvent.objects.filter(action="user.login_failed", source_ip="10.9.9.9").count() == LIMIT
    assert AuditEvent.objects.filter(action="user.locked_out", source_ip="10.9.9.9").count() == 2


def test_a_successful_sign_in_before_the_limit_clears_the_count(viewer):
    for _ in range(LIMIT - 1):
        _attempt("vera", "wrong password", "10.0.0.1")
    assert _signed_in(_attempt("vera", PASSWORD, "10.0.0.1"))
    for _ in range(LIMIT - 1):
        _attempt("vera", "wrong password", "10.0.0.1")
    assert _signed_in(_attempt("vera", PASSWORD, "10.0.0.1"))


def test_passwords_tried_never_reach_the_trail_or_the_attempt_log(viewer):
    for _ in range(LIMIT + 1):
        _attempt("vera", "hunter2-guess", "10.0.0.1")
    _attempt("vera", PASSWORD, "10.0.0.1")
    assert AuditEvent.objects.count() == LIMIT + 3  # the failures, the lock-out, two refusals
    for event in AuditEvent.objects.all():
        assert "hunter2" not in event.canonical().decode() and PASSWORD not in event.canonical().decode()
    for attempt in AccessAttempt.objects.all():
        assert "hunter2" not in attempt.post_data and PASSWORD not in attempt.post_data


def test_sign_in_and_sign_out_are_recorded(viewer):
    client = Client()
    client.post(reverse("login"), {"username": "vera", "password": PASSWORD}, HTTP_USER_AGENT="Firefox/140")
    client.post(reverse("logout"))
    events = AuditEvent.objects.order_by("id")
    assert [(e.action, e.actor_name, e.target, e.outcome) for e in events] == [
        ("user.login", "vera", "vera", "succeeded"),
        ("user.logout", "vera", "vera", "succeeded"),
    ]
    assert events[0].user_agent == "Firefox/140" and events[0].actor_id == viewer.pk


def test_a_session_ends_after_the_idle_time_but_not_while_in_use(viewer, settings, time_machine):
    settings.SESSION_COOKIE_AGE = 2
    time_machine.move_to(timezone.now(), tick=False)  # the clock moves only when the test moves it
    busy, idle = Client(), Client()
    for client in (busy, idle):
        assert _signed_in(client.post(reverse("login"), {"username": "vera", "password": PASSWORD}))
    # Each request renews the session: used every second, it outlives the idle time.
    for _ in range(3):
        time_machine.shift(1)
        assert busy.get(reverse("system")).status_code == 200
    response = idle.get(reverse("system"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_idle_time_and_the_failure_limit_come_from_the_environment():
    env = {**os.environ, "SESSION_IDLE_SECONDS": "600", "LOGIN_FAILURE_LIMIT": "3", "LOGIN_COOLOFF_MINUTES": "30"}
    code = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_AGE, s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["600", "3", "0.5"]


@pytest.mark.parametrize("value", ["soon", "1.5"])
def test_a_bad_idle_time_stops_the_console_with_a_clear_error(value):
    env = {**os.environ, "SESSION_IDLE_SECONDS": value}
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert f"SESSION_IDLE_SECONDS must be a whole number, not '{value}'" in out.stderr
