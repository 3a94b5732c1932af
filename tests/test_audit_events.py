"""Every kind of action the console offers so far leaves its event in the trail, with who, from
where, what, and how it ended. Later features add their kinds to KINDS."""

from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from console.audit.models import AuditEvent
from console.audit.record import verify
from console.jobs.models import Job
from tests.conftest import PASSWORD, wait_until

AGENT = "Mozilla/5.0 (audit test)"
LIMIT = settings.AXES_FAILURE_LIMIT


def _client(user: User | None = None) -> Client:
    client = Client(HTTP_USER_AGENT=AGENT, REMOTE_ADDR="10.1.2.3")
    if user is not None:
        client.force_login(user)
    return client


def _sign_in(users) -> None:
    _client().post(reverse("login"), {"username": "vera", "password": PASSWORD})


def _sign_out(users) -> None:
    _client(users["vera"]).post(reverse("logout"))


def _fail_sign_in(users) -> None:
    _client().post(reverse("login"), {"username": "vera", "password": "wrong"})


def _lock_out(users) -> None:
    for _ in range(LIMIT):
        _client().post(reverse("login"), {"username": "mallory", "password": "wrong"})


def _create_user(users) -> None:
    data = {"username": "newbie", "password": "a long enough secret 42", "role": "Viewer"}
    _client(users["ada"]).post(reverse("user_create"), data)


def _change_role(users) -> None:
    _client(users["ada"]).post(reverse("user_role", args=[users["vera"].pk]), {"role": "Operator"})


def _deactivate(users) -> None:
    _client(users["ada"]).post(reverse("user_deactivate", args=[users["vera"].pk]))


def _reactivate(users) -> None:
    User.objects.filter(pk=users["vera"].pk).update(is_active=False)
    _client(users["ada"]).post(reverse("user_reactivate", args=[users["vera"].pk]))


def _ask_disk_use(users) -> None:
    _client(users["otto"]).post(reverse("system_disk_refresh", args=["local"]))


def _cancel_job(users) -> None:
    _client(users["otto"]).post(reverse("system_disk_refresh", args=["local"]))
    _client(users["otto"]).post(reverse("job_cancel", args=[Job.objects.get().pk]))


def _be_refused(users) -> None:
    _client(users["vera"]).post(reverse("system_disk_refresh", args=["local"]))


# (what a person does, the events it leaves as (actor, action, target, outcome))
KINDS: list[tuple[Callable, list[tuple[str, str, str, str]]]] = [
    (_sign_in, [("vera", "user.login", "vera", "succeeded")]),
    (_sign_out, [("vera", "user.logout", "vera", "succeeded")]),
    (_fail_sign_in, [("anonymous", "user.login_failed", "vera", "failed")]),
    (
        _lock_out,
        [
            *[("anonymous", "user.login_failed", "mallory", "failed")] * 5,
            ("anonymous", "user.locked_out", "mallory", "denied"),
        ],
    ),
    (_create_user, [("ada", "user.create", "newbie", "succeeded")]),
    (_change_role, [("ada", "role.change", "vera", "succeeded")]),
    (_deactivate, [("ada", "user.deactivate", "vera", "succeeded")]),
    (_reactivate, [("ada", "user.reactivate", "vera", "succeeded")]),
    (_ask_disk_use, [("otto", "system.df", "disk usage", "requested")]),
    (_cancel_job, [("otto", "system.df", "disk usage", "requested"), ("otto", "system.df", "disk usage", "cancelled")]),
    (_be_refused, [("vera", "system.df", "/engines/local/system/disk/", "denied")]),
]


@pytest.mark.parametrize(("act", "expected"), KINDS, ids=[act.__name__.strip("_") for act, _ in KINDS])
def test_each_action_kind_leaves_its_events(viewer, operator, admin, act, expected):
    users = {"vera": viewer, "otto": operator, "ada": admin}
    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    act(users)
    events = AuditEvent.objects.filter(id__gt=start)
    if act is not _sign_in:
        events = events.exclude(action="user.login")  # the test clients' own sign-ins
    events = list(events.order_by("id"))
    assert [(e.actor_name, e.action, e.target, e.outcome) for e in events] == expected
    for event in events:
        # Accounts belong to no engine; everything else names the engine it concerned.
        engine = "" if event.action.startswith(("user.", "role.")) else "local"
        assert (event.source_ip, event.user_agent, event.engine) == ("10.1.2.3", AGENT, engine)
        assert event.request_id
        assert event.actor_id == (users[event.actor_name].pk if event.actor_name in users else None)
    assert verify()[2] == ""


def test_a_job_records_its_request_and_its_outcome_once(job_runner, operator):
    _client(operator).post(reverse("system_disk_refresh", args=["local"]))
    job = Job.objects.get()
    wait_until(lambda: AuditEvent.objects.filter(job_id=job.pk, outcome="succeeded").exists(), message="the outcome")
    events = list(AuditEvent.objects.filter(job_id=job.pk).order_by("id"))
    assert [(e.actor_name, e.action, e.outcome) for e in events] == [
        ("otto", "system.df", "requested"),
        ("otto", "system.df", "succeeded"),
    ]
    # The request came through the web; the outcome from the worker, which has no request.
    assert events[0].source_ip == "10.1.2.3" and events[1].source_ip == ""
    assert verify()[2] == ""
