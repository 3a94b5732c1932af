"""Sign-in: failures lock a username from one address, failures from several addresses slow the
username down, each failure, lock-out and refusal is recorded, and sessions end after the idle time."""

import os
import subprocess
import sys
from datetime import timedelta
from ipaddress import ip_network

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from console.audit.models import AuditEvent
from tests.conftest import PASSWORD, ROOT

LIMIT = settings.AXES_FAILURE_LIMIT
COOL_OFF = f"{settings.AXES_COOLOFF_TIME * 60:.0f} minutes"


def _attempt(username: str, password: str, address: str):
    return Client().post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def _signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("fleet")


def _assert_locked_out(response, username: str):
    """The page says what is locked: this account, from this address, for the cool-off."""
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in locked" in page
    assert f"Too many failed sign-ins for the account <strong>{username}</strong> from your address" in page
    assert (
        f"Signing in to this account from your address is refused, even with the right password, for {COOL_OFF}" in page
    )
    assert "Other accounts, and this account from other addresses, are not affected." in page


def _assert_slowed_down(response, username: str, wait: str):
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in slowed down" in page
    assert f"Too many failed sign-ins for the account <strong>{username}</strong> from several addresses." in page
    assert f"each try waits {wait} after the last failed one" in page


def _move_clock(**delta):
    """Let time pass for the throttle: its failures are that much older."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(**delta))


def test_it_locks_a_username_from_one_address_even_with_the_right_password(viewer, operator):
    for _ in range(LIMIT - 1):
        response = _attempt("vera", "wrong password", "10.0.0.9")
        assert response.status_code == 200 and "did not match" in response.content.decode()
    _assert_locked_out(_attempt("vera", "wrong password", "10.0.0.9"), "vera")

    # From the same address, with the right password: still refused; someone else signs in from it.
    refused = _attempt("vera", PASSWORD, "10.0.0.9")
    _assert_locked_out(refused, "vera")
    assert "_auth_user_id" not in refused.wsgi_request.session
    assert _signed_in(_attempt("otto", PASSWORD, "10.0.0.9"))

    events = AuditEvent.objects.exclude(action="user.login").order_by("id")
    assert [(e.action, e.target, e.outcome) for e in events] == [
        *[("user.login_failed", "vera", "failed")] * LIMIT,
        ("user.locked_out", "vera", "denied"),
        ("user.locked_out", "vera", "denied"),
    ]
    assert {e.source_ip for e in events} == {"10.0.0.9"}
    locked = f"vera is locked from 10.0.0.9 for {COOL_OFF}"
    assert events[LIMIT].error == f"locked out after {LIMIT} failed sign-ins: {locked}"
    assert events[LIMIT + 1].error == f"sign-in refused: {locked}"


def test_failures_from_one_address_do_not_lock_the_real_user_out_from_another(viewer):
    for _ in range(LIMIT):
        _attempt("vera", "wrong password", "10.6.6.6")
    _assert_locked_out(_attempt("vera", PASSWORD, "10.6.6.6"), "vera")
    # vera at her own desk, never signed in from there before: not locked, not slowed.
    assert _signed_in(_attempt("vera", PASSWORD, "10.1.1.1"))


def test_failures_on_many_usernames_from_one_address_lock_none_of_the_others(viewer):
    for i in range(LIMIT):
        _attempt(f"guess{i}", "wrong password", "10.9.9.9")
    assert _signed_in(_attempt("vera", PASSWORD, "10.9.9.9"))


def test_the_lock_out_holds_across_successful_sign_ins_to_another_account_from_the_same_address(operator, admin):
    """Guess ada's password from otto's address, signing in to otto's own account between guesses:
    otto's success clears otto's failures, never those against ada."""
    for _ in range(LIMIT - 1):
        assert _attempt("ada", "wrong password", "10.0.0.5").status_code == 200
        assert _signed_in(_attempt("otto", PASSWORD, "10.0.0.5"))
    _assert_locked_out(_attempt("ada", "wrong password", "10.0.0.5"), "ada")
    assert _signed_in(_attempt("otto", PASSWORD, "10.0.0.5"))
    _assert_locked_out(_attempt("ada", PASSWORD, "10.0.0.5"), "ada")
    assert AuditEvent.objects.filter(action="user.login_failed", target="ada").count() == LIMIT


def test_a_successful_sign_in_before_the_limit_clears_the_count_of_that_account_from_that_address(viewer):
    for _ in range(LIMIT - 1):
        _attempt("vera", "wrong password", "10.0.0.1")
    assert _signed_in(_attempt("vera", PASSWORD, "10.0.0.1"))
    for _ in range(LIMIT - 1):
        _attempt("vera", "wrong password", "10.0.0.1")
    assert _signed_in(_attempt("vera", PASSWORD, "10.0.0.1"))


def test_failures_from_several_addresses_slow_the_account_down_but_not_where_its_owner_signs_in(viewer):
    assert _signed_in(_attempt("vera", PASSWORD, "10.1.1.1"))  # vera's own desk
    # A guesser spread over addresses, each one under its own limit: one failure more than one address may make.
    for address, failures in (("10.7.0.1", LIMIT - 1), ("10.7.0.2", 2)):
        for _ in range(failures):
            assert _attempt("vera", "wrong password", address).status_code == 200
    # Now every try waits 2 seconds after the last failure, even with the right password.
    _assert_slowed_down(_attempt("vera", "wrong password", "10.7.0.3"), "vera", "2 seconds")
    _assert_slowed_down(_attempt("vera", PASSWORD, "10.7.0.4"), "vera", "2 seconds")
    # Where vera has signed in before, only that address's own lock applies.
    assert _signed_in(_attempt("vera", PASSWORD, "10.1.1.1"))
    refusals = AuditEvent.objects.filter(action="user.locked_out").order_by("id")
    assert [e.error for e in refusals] == [
        "sign-in refused: vera is slowed down after failed sign-ins from several addresses; "
        f"tries from {address} wait 2 seconds after the last failure"
        for address in ("10.7.0.3", "10.7.0.4")
    ]
    # Refused tries did not count; after the wait a try goes through, and each failure doubles the wait.
    _move_clock(seconds=2)
    assert _attempt("vera", "wrong password", "10.7.0.3").status_code == 200
    _assert_slowed_down(_attempt("vera", "wrong password", "10.7.0.5"), "vera", "4 seconds")
    _move_clock(seconds=4)
    assert _signed_in(_attempt("vera", PASSWORD, "10.7.0.5"))


def test_forwarded_for_is_ignored_unless_the_request_came_through_a_trusted_proxy(viewer, settings):
    def through(proxy: str, forwarded_for: str, password: str = "wrong password"):  # noqa: S107
        return Client().post(
            reverse("login"),
            {"username": "vera", "password": password},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )

    # No trusted proxy: the header is anybody's word, the peer is the client.
    for i in range(LIMIT):
        through("10.0.0.1", f"192.0.2.{i}")
    _assert_locked_out(through("10.0.0.1", "192.0.2.77", PASSWORD), "vera")
    assert set(AuditEvent.objects.values_list("source_ip", flat=True)) == {"10.0.0.1"}

    # Behind a trusted proxy: each client is its own address, and the proxy is not locked.
    _move_clock(minutes=settings.AXES_COOLOFF_TIME * 60)
    before = AuditEvent.objects.count()
    settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/24")]
    for _ in range(LIMIT):
        through("10.0.0.2", "203.0.113.5")
    _assert_locked_out(through("10.0.0.2", "203.0.113.5", PASSWORD), "vera")
    assert _signed_in(through("10.0.0.2", "203.0.113.6", PASSWORD))
    # Addresses left of the nearest untrusted one could have been written by anyone: not believed.
    _assert_locked_out(through("10.0.0.2", "198.51.100.9, 203.0.113.5, 10.0.0.3", PASSWORD), "vera")
    ips = list(AuditEvent.objects.filter(id__gt=before).order_by("id").values_list("source_ip", flat=True))
    assert ips == ["203.0.113.5"] * (LIMIT + 2) + ["203.0.113.6", "203.0.113.5"]


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
        assert busy.get(reverse("system", args=["local"])).status_code == 200
    response = idle.get(reverse("system", args=["local"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_session_in_use_is_renewed_once_a_minute_and_still_ends_when_idle(viewer, settings, time_machine):
    """The browser's session cookie is not rewritten by every page (a database write each time): a session in
    use is renewed once a minute, lives on for as long as it is used, and ends the idle time after its last use."""
    settings.SESSION_COOKIE_AGE = 3600
    time_machine.move_to(timezone.now(), tick=False)
    client = Client()
    assert _signed_in(client.post(reverse("login"), {"username": "vera", "password": PASSWORD}))
    page = reverse("job_list")
    renewed = []
    for _ in range(150):  # two and a half hours, a page every 50 s
        time_machine.shift(50)
        response = client.get(page)
        assert response.status_code == 200
        renewed.append(settings.SESSION_COOKIE_NAME in response.cookies)
    assert renewed.count(True) == 75 and renewed[:2] in ([True, False], [False, True])  # every other page
    time_machine.shift(3599 - 50)
    assert client.get(page).status_code == 200  # idle less than the idle time, less the minute between renewals
    time_machine.shift(3601)
    response = client.get(page)
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


def test_a_bad_trusted_proxy_stops_the_console_with_a_clear_error():
    env = {**os.environ, "TRUSTED_PROXIES": "10.0.0.1,proxy.example"}
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "TRUSTED_PROXIES must list addresses or networks" in out.stderr and "'proxy.example'" in out.stderr
