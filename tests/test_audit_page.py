"""/audit/: newest first, filters, pages that keep the filters, links to jobs and targets, and the
filtered set exported as CSV and JSON Lines from the page and from `manage.py audit export`."""

import csv
import io
import json
import types
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

import console.audit.record as audit_record
from console.audit.export import FIELDS
from console.audit.models import AuditEvent
from console.audit.record import record


def _at(monkeypatch, when: str, *args, **kwargs) -> AuditEvent:
    moment = datetime.fromisoformat(when).replace(tzinfo=UTC)
    monkeypatch.setattr(audit_record, "timezone", types.SimpleNamespace(now=lambda: moment))
    return record(*args, **kwargs)


@pytest.fixture
def trail(db, monkeypatch) -> dict[int, AuditEvent]:
    """Five events over three days, numbered 1 to 5 oldest first."""
    return {
        1: _at(
            monkeypatch,
            "2026-01-10T09:00",
            "ada",
            "image.pull",
            "httpd:2.4",
            "succeeded",
            target_id="sha256:aaa1",
            job_id=41,
        ),
        2: _at(monkeypatch, "2026-01-10T12:00", "otto", "image.remove", "hello-world", "failed", error="in use"),
        3: _at(monkeypatch, "2026-01-11T08:00", "vera", "system.df", "disk usage", "denied", error="needs Operator"),
        4: _at(
            monkeypatch, "2026-01-12T10:30", "ada", "user.create", "newbie", "succeeded", target_id="7", role="Viewer"
        ),
        5: _at(monkeypatch, "2026-01-12T23:59:30", "otto", "container.run", "httpd:2.4", "requested", job_id=45),
    }


def _numbers(trail: dict[int, AuditEvent], ids) -> list[int]:
    """The trail's numbers of the events `ids`, leaving out the test clients' own sign-ins."""
    by_id = {e.pk: n for n, e in trail.items()}
    ids = [int(i) for i in ids]
    others = AuditEvent.objects.filter(pk__in=set(ids) - set(by_id))
    assert {e.action for e in others} <= {"user.login"}
    return [by_id[i] for i in ids if i in by_id]


def _page_rows(client, query: dict, trail) -> list[int]:
    response = client.get(reverse("audit_list"), query)
    assert response.status_code == 200
    html = response.content.decode()
    return _numbers(trail, [chunk.split('"')[0] for chunk in html.split('<tr id="event-')[1:]])


FILTERS = [
    ({}, [1, 2, 3, 4, 5]),
    ({"user": "ADA"}, [1, 4]),
    ({"action": "image.pull"}, [1]),
    ({"action": "image.*"}, [1, 2]),
    ({"target": "httpd"}, [1, 5]),
    ({"target": "sha256:aa"}, [1]),
    ({"outcome": "denied"}, [3]),
    ({"since": "2026-01-11"}, [3, 4, 5]),
    ({"until": "2026-01-10"}, [1, 2]),
    ({"until": "2026-01-12"}, [1, 2, 3, 4, 5]),
    ({"until": "2026-01-12T10:30"}, [1, 2, 3, 4]),
    ({"since": "2026-01-10T10:00", "until": "2026-01-11T08:00:00"}, [2, 3]),
    ({"user": "otto", "outcome": "failed"}, [2]),
    ({"user": "nobody"}, []),
]


@pytest.mark.parametrize(("query", "expected"), FILTERS, ids=[str(q) for q, _ in FILTERS])
def test_each_filter_selects_the_same_events_on_the_page_and_in_every_export(viewer_client, trail, query, expected):
    assert _page_rows(viewer_client, query, trail) == sorted(expected, reverse=True)  # newest first

    as_csv = viewer_client.get(reverse("audit_export", args=["csv"]), query)
    assert as_csv.status_code == 200 and as_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert as_csv["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.DictReader(io.StringIO(b"".join(as_csv.streaming_content).decode())))
    assert _numbers(trail, [r["id"] for r in rows]) == expected  # oldest first

    as_jsonl = viewer_client.get(reverse("audit_export", args=["jsonl"]), query)
    lines = [json.loads(line) for line in b"".join(as_jsonl.streaming_content).decode().splitlines()]
    assert _numbers(trail, [line["id"] for line in lines]) == expected

    options = [f"--{name}={value}" for name, value in query.items()]
    for fmt, parse in (
        ("csv", lambda t: [r["id"] for r in csv.DictReader(io.StringIO(t))]),
        ("jsonl", lambda t: [json.loads(line)["id"] for line in t.splitlines()]),
    ):
        out = io.StringIO()
        call_command("audit", "export", f"--format={fmt}", *options, stdout=out)
        assert _numbers(trail, parse(out.getvalue())) == expected


JANUARY = "?since=2026-01-01&until=2026-01-31"


def test_exports_carry_every_field_and_the_chain(viewer_client, trail):
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(viewer_client.get(f"/audit/export.csv{JANUARY}").streaming_content).decode())
        )
    )
    assert list(rows[0]) == FIELDS
    first = trail[1]
    assert rows[0]["created"] == "2026-01-10T09:00:00.000000+00:00"
    assert (rows[0]["actor_name"], rows[0]["action"], rows[0]["target"], rows[0]["target_id"]) == (
        "ada",
        "image.pull",
        "httpd:2.4",
        "sha256:aaa1",
    )
    assert (rows[0]["job_id"], rows[0]["hash"], rows[0]["prev_hash"]) == ("41", first.hash, first.prev_hash)
    assert json.loads(rows[3]["params"]) == {"role": "Viewer"}

    lines = [
        json.loads(x)
        for x in b"".join(viewer_client.get(f"/audit/export.jsonl{JANUARY}").streaming_content).splitlines()
    ]
    assert list(lines[0]) == FIELDS
    assert lines[3]["params"] == {"role": "Viewer"} and lines[1]["error"] == "in use"
    # The export is enough to check the chain's links offline.
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(lines, lines[1:], strict=False))


def test_csv_cells_that_look_like_formulas_are_defused_but_jsonl_keeps_them(viewer_client, db):
    record("anonymous", "user.login_failed", '=HYPERLINK("http://evil/","click")', "failed")
    query = "?action=user.login_failed"
    as_csv = b"".join(viewer_client.get(f"/audit/export.csv{query}").streaming_content).decode()
    row = next(csv.DictReader(io.StringIO(as_csv)))
    assert row["target"] == '\'=HYPERLINK("http://evil/","click")'
    line = json.loads(b"".join(viewer_client.get(f"/audit/export.jsonl{query}").streaming_content))
    assert line["target"] == '=HYPERLINK("http://evil/","click")'


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "2026-01-12", "until": "2026-01-10"}, "“From” is after “To”."),
        ({"since": "yesterday"}, "Enter a valid date/time."),
        ({"outcome": "maybe"}, "Select a valid choice."),
    ],
)
def test_bad_filters_are_explained_and_select_nothing(viewer_client, trail, query, message):
    response = viewer_client.get(reverse("audit_list"), query)
    assert message in response.content.decode()
    assert _page_rows(viewer_client, query, trail) == []
    export = viewer_client.get(reverse("audit_export", args=["csv"]), query)
    assert export.status_code == 400 and message in export.content.decode()
    with pytest.raises(CommandError, match=message):
        call_command("audit", "export", *[f"--{k}={v}" for k, v in query.items()], stdout=io.StringIO())


def test_an_unknown_export_format_is_not_found(viewer_client, db):
    assert viewer_client.get("/audit/export.xml").status_code == 404


def test_pages_keep_the_filters(viewer_client, db):
    for i in range(120):
        record("ada", "test.page", f"item {i}", "succeeded")
    record("otto", "image.pull", "httpd:2.4", "succeeded")
    first = viewer_client.get(reverse("audit_list"), {"action": "test.page"}).content.decode()
    assert first.count('<tr id="event-') == 50
    assert "item 119" in first and "item 70" in first and "item 69" not in first
    assert '<a href="?action=test.page&amp;page=2" rel="next">Older</a>' in first
    assert "Export these 120 events" in first
    assert 'href="/audit/export.csv?action=test.page"' in first
    third = viewer_client.get(reverse("audit_list"), {"action": "test.page", "page": 3}).content.decode()
    assert third.count('<tr id="event-') == 20 and 'title="All events about item 0"' in third and "httpd" not in third
    assert '<a href="?action=test.page&amp;page=2" rel="prev">Newer</a>' in third
    assert "Page 3 of 3" in third


def test_rows_link_to_their_job_and_target(admin_client, viewer_client, trail):
    page = admin_client.get(reverse("audit_list")).content.decode()
    assert f'href="{reverse("job_detail", args=[41])}"' in page and f'href="{reverse("job_detail", args=[45])}"' in page
    assert 'href="/users/#user-7" class="target">newbie</a>' in page
    assert 'href="?target=hello-world"' in page  # every event about the same target
    assert 'href="?user=otto"' in page and 'href="?action=system.df"' in page
    # A Viewer may not open the Users page, so the audit page does not link there for them.
    assert 'href="/users/#user-7"' not in viewer_client.get(reverse("audit_list")).content.decode()


def test_the_page_escapes_what_it_shows(viewer_client, db):
    record("anonymous", "user.login_failed", "<script>alert(1)</script>", "failed")
    page = viewer_client.get(reverse("audit_list")).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
