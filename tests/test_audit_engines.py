"""The audit trail names the engine of every event; it filters and exports by engine, and nobody reads
the events of an engine they have no role on."""

import csv
import io
import json

import pytest

from console.audit.record import record
from console.engines.models import Engine, EngineRole
from tests.conftest import _client_for, make_user


@pytest.fixture
def events(db):
    local = Engine.objects.ensure_environment()
    staging = Engine.objects.create(name="staging", url="unix:///nonexistent/staging.sock")
    record("otto", "image.pull", "httpd:2.4", "succeeded", engine=local.name)
    record("otto", "container.run", "web-staging", "succeeded", engine=staging.name)
    record("ada", "user.create", "newbie", "succeeded", engine="")
    return local, staging


TARGETS = ("httpd:2.4", "web-staging", "newbie")


def _shown(client, **query) -> set[str]:
    """Which of the three events the page shows."""
    page = client.get("/audit/", query).content.decode()
    return {target for target in TARGETS if target in page}


def _exported(client, fmt: str, **query) -> list[tuple[str, str]]:
    body = b"".join(client.get(f"/audit/export.{fmt}", query).streaming_content).decode()
    if fmt == "csv":
        rows = [(row["engine"], row["target"]) for row in csv.DictReader(io.StringIO(body))]
    else:
        rows = [(e["engine"], e["target"]) for e in map(json.loads, body.splitlines())]
    return [row for row in rows if row[1] in TARGETS]  # not the test clients' own sign-ins


def test_the_page_names_each_events_engine_and_filters_by_it(events, admin_client):
    page = admin_client.get("/audit/").content.decode()
    assert "?engine=staging" in page and "?engine=local" in page  # each row's engine filters the trail
    assert _shown(admin_client, engine="staging") == {"web-staging"}
    assert _shown(admin_client, engine="local") == {"httpd:2.4"}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_exports_filter_by_engine(events, admin_client, fmt):
    assert _exported(admin_client, fmt, engine="staging") == [("staging", "web-staging")]
    assert sorted(_exported(admin_client, fmt)) == [("", "newbie"), ("local", "httpd:2.4"), ("staging", "web-staging")]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_engine_without_a_role_is_missing_from_the_trail_and_its_exports(events, fmt):
    _, staging = events
    vera = make_user("vera", "Viewer")
    EngineRole.objects.create(user=vera, engine=staging, role="")
    client = _client_for(vera)
    assert _shown(client) == {"httpd:2.4", "newbie"}
    assert _shown(client, engine="staging") == set()
    assert sorted(_exported(client, fmt)) == [("", "newbie"), ("local", "httpd:2.4")]
    assert _exported(client, fmt, engine="staging") == []
