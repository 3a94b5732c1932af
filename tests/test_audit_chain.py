"""The audit trail is a hash chain: `audit verify` passes on an intact chain and names the first bad
event when a row was edited, deleted, moved or inserted; concurrent writers never fork it; nobody can
edit or delete events through the console (there is no Django admin site); secrets never enter it."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from console.audit.models import AuditEvent, ChainHead
from console.audit.record import record, verify
from tests.conftest import ROOT, database_url


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in its own process against the test database (its data must be committed)."""
    env = {**os.environ, "DATABASE_URL": database_url(), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def _five_events() -> list[AuditEvent]:
    return [record(f"user{i}", "image.pull", f"httpd:2.{i}", "succeeded", tag=f"2.{i}") for i in range(1, 6)]


def _raw(*statements: str) -> None:
    # The model refuses updates and deletes; a tamperer goes around it.
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def test_it_passes_an_intact_chain(transactional_db):
    _five_events()
    assert verify() == (5, None, "")
    result = manage("audit", "verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Audit chain intact: 5 events."


def test_it_passes_an_empty_trail(transactional_db):
    assert verify() == (0, None, "")
    assert manage("audit", "verify").returncode == 0


@pytest.mark.parametrize(
    ("tamper", "first_bad", "problem"),
    [
        (["UPDATE audit_auditevent SET target = 'httpd:evil' WHERE id = 3"], "event 3 ", "the row was changed"),
        (['UPDATE audit_auditevent SET params = \'{"tag": "x"}\' WHERE id = 2'], "event 2 ", "the row was changed"),
        (["DELETE FROM audit_auditevent WHERE id = 3"], "event 4 ", "a row was deleted"),
        (["DELETE FROM audit_auditevent WHERE id = 5"], "the chain's end", "the newest events are missing"),
        (
            [
                "UPDATE audit_auditevent SET id = -2 WHERE id = 2",
                "UPDATE audit_auditevent SET id = 2 WHERE id = 3",
                "UPDATE audit_auditevent SET id = 3 WHERE id = -2",
            ],
            "event 2 ",
            "does not follow the event before it",
        ),
    ],
    ids=["edited-target", "edited-params", "deleted-row", "deleted-newest-row", "swapped-pair"],
)
def test_it_fails_on_a_tampered_chain_naming_the_first_bad_event(transactional_db, tamper, first_bad, problem):
    _five_events()
    _raw(*tamper)
    result = manage("audit", "verify")
    assert result.returncode == 1
    assert f"Audit chain broken at {first_bad}" in result.stderr
    assert problem in result.stderr


def test_it_fails_on_a_row_inserted_out_of_order(transactional_db):
    events = _five_events()
    forged = AuditEvent(
        id=6, created=timezone.now(), actor_name="user1", action="image.remove", target="httpd:2.1", outcome="succeeded"
    )
    forged.prev_hash = events[3].hash  # claims to follow event 4, but event 5 is there
    forged.hash = forged.compute_hash()
    forged.save()
    result = manage("audit", "verify")
    assert result.returncode == 1
    assert "Audit chain broken at event 6 " in result.stderr


WRITER = """
import os, pathlib, time
from console.audit.record import record
pathlib.Path(os.environ["READY"]).touch()
go = pathlib.Path(os.environ["GO"])
while not go.exists():
    time.sleep(0.005)
time.sleep(max(0.0, float(go.read_text()) - time.time()))
for i in range(25):
    record(os.environ["WRITER"], "test.concurrent", f"event {i}", "succeeded", n=i)
    time.sleep(0.01)  # as requests do, so one writer does not hold SQLite's lock for all its events
"""


def test_concurrent_writers_in_separate_processes_never_fork_the_chain(transactional_db, tmp_path: Path):
    before = record("ada", "user.login", "ada", "succeeded")
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", WRITER],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": database_url(),
                "WRITER": f"w{n}",
                "READY": str(tmp_path / f"ready{n}"),
                "GO": str(go),
            },
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{n}").exists() for n in range(4)):
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers), "a writer did not start"
        time.sleep(0.05)
    go.write_text(str(time.time() + 0.3))  # all four start writing at the same moment
    for w in writers:
        assert w.wait(timeout=120) == 0, w.stderr.read()

    assert verify() == (101, None, "")
    events = list(AuditEvent.objects.filter(id__gt=before.pk).order_by("id"))
    assert len(events) == 100
    assert [e.pk for e in events] == list(range(before.pk + 1, before.pk + 101))
    chain = [before, *events]
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(chain, chain[1:], strict=False))
    assert len({e.prev_hash for e in chain}) == len(chain)  # no event has two successors
    assert ChainHead.objects.get().last_hash == events[-1].hash
    for n in range(4):
        assert [e.params["n"] for e in events if e.actor_name == f"w{n}"] == list(range(25))
    # The writers really overlapped: their events interleave rather than follow in four blocks.
    switches = sum(a.actor_name != b.actor_name for a, b in zip(events, events[1:], strict=False))
    assert switches > 3


def test_the_model_refuses_to_change_or_delete_events(db):
    event = record("ada", "image.pull", "httpd:2.4", "succeeded")
    event.target = "httpd:evil"
    for attempt in (event.save, event.delete, AuditEvent.objects.all().delete):
        with pytest.raises(PermissionError):
            attempt()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(target="httpd:evil")
    assert AuditEvent.objects.get().target == "httpd:2.4"
    assert verify() == (1, None, "")


def test_the_console_offers_no_way_to_change_events(viewer_client, admin_client):
    event = record("ada", "image.pull", "httpd:2.4", "succeeded")
    for client in (viewer_client, admin_client):
        for url in ("/audit/", "/audit/export.csv", "/audit/export.jsonl"):
            assert client.post(url, {"id": event.pk, "target": "x"}).status_code == 405
    assert AuditEvent.objects.get(pk=event.pk).target == "httpd:2.4"


def test_secrets_never_enter_the_trail(db):
    event = record(
        "ada",
        "registry.credential_change",
        "registry.example:5000",
        "succeeded",
        username="bob",
        password="hunter2",
        token="tok-123",
        api_key="key-456",
        auth={"identitytoken": "tok-789", "server": "registry.example:5000"},
        environment=["PATH=/bin", "DB_PASSWORD=hunter3", "GITHUB_TOKEN=tok-000"],
        command="mysql --password=hunter4 -h db",
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    text = stored.canonical().decode()
    for secret in ("hunter2", "tok-123", "key-456", "tok-789", "hunter3", "tok-000", "hunter4"):
        assert secret not in text
    assert stored.params["username"] == "bob" and stored.params["password"] == "***"
    assert stored.params["auth"] == "***"
    assert stored.params["environment"] == ["PATH=/bin", "DB_PASSWORD=***", "GITHUB_TOKEN=***"]
    assert stored.params["command"] == "mysql --password=***"
    assert verify() == (1, None, "")
