"""Request ids, caching, CSV formulas and the size of what the console keeps."""

import re

import pytest
from django.urls import reverse

from console.audit.export import csv_lines
from console.audit.models import AuditEvent
from console.audit.record import record

pytestmark = pytest.mark.security


@pytest.mark.parametrize("junk", ["abc\n", "x" * 65, "<script>alert(1)</script>", "a b", "id;drop", "ünïcode"])
def test_a_request_id_that_is_not_plainly_an_id_is_replaced(viewer_client, junk):
    response = viewer_client.get("/", headers={"X-Request-ID": junk})
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_a_plain_request_id_is_kept_and_reaches_the_audit_trail(admin_client):
    fields = {"host": "registry.example.com", "username": "u", "secret": "s"}
    response = admin_client.post(reverse("registry_save"), fields, headers={"X-Request-ID": "edge-7f.3_a"})
    assert response["X-Request-ID"] == "edge-7f.3_a"
    assert AuditEvent.objects.get(action="registry.credentials.add").request_id == "edge-7f.3_a"


def test_signed_in_pages_are_not_stored_by_browsers_or_proxies(viewer_client, admin_client):
    for client, url in ((viewer_client, "/"), (viewer_client, "/jobs/"), (admin_client, "/audit/export.csv")):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url


def test_static_files_keep_their_caching(viewer_client):
    response = viewer_client.get("/static/console.js")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("name", ["=1+1", " =1+1", "\u3000=1+1", "＝1+1", "＋1", "－1", "＠SUM(A1)", "\t=1", "\r=1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(db, name):
    event = record(name, "image.pull", "httpd:2.4", "succeeded")
    row = list(csv_lines([event]))[1]
    assert f",'{name}," in row or f',"\'{name}",' in row, row


def test_an_audit_event_keeps_bounded_details_and_says_it_cut_them(db):
    event = record(
        "ada", "container.run", "x", "failed", error="e" * 10_000, command="c" * 5_000, lines=["l" * 90] * 500
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert len(stored.error) < 4100 and stored.error.endswith("(truncated: 10000 characters)")
    assert len(str(stored.params)) < 17_000
    assert "the details were" in stored.params["truncated"]
    short = record("ada", "container.run", "x", "failed", command="c" * 5_000)
    assert AuditEvent.objects.get(pk=short.pk).params["command"].endswith("(truncated: 5000 characters)")


def test_form_fields_say_how_long_they_may_be(operator_client, admin_client):
    response = operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": "a" * 401})
    assert response.status_code == 400
    assert "An image reference is at most 400 characters (this one has 401)." in response.content.decode()
    response = admin_client.post(reverse("registry_save"), {"host": "h" * 256, "username": "u", "secret": "s"})
    assert response.status_code == 400 and "A registry host is at most 255 characters" in response.content.decode()
    response = operator_client.post(reverse("image_remove_confirm", args=["local"]), {"ref": "a" * 5000}, follow=True)
    assert "of at most 400 characters" in response.content.decode()
    assert not AuditEvent.objects.filter(action="image.remove").exists()
