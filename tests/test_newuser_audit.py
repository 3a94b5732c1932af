"""What a new user tripped on (issue 20, item 3): the Audit page hung on events holding about 1 MB of
details. A row shows a bounded summary, the event's own page shows it all as key: value lines, and an
event holds bounded details whatever a form sent."""

import json

import pytest
from django.urls import reverse

from console.audit.models import AuditEvent
from console.audit.record import PARAMS_LIMIT, record
from console.engines.models import Engine, EngineRole
from tests.conftest import make_user

MEGABYTE = 1_000_000


def huge_event(n: int = 0) -> AuditEvent:
    """An event whose caller handed over about 1 MB of details."""
    return record(
        "ada",
        "container.run",
        f"big-{n}",
        "requested",
        engine="local",
        spec={
            "image": "busybox:latest",
            "environment": [f"VAR_{i}={'v' * 990}" for i in range(1000)],
            "labels": {f"label.{i}": "x" * 500 for i in range(100)},
        },
        note="n" * 50_000,
        dangerous=False,
        asked_from="the run form",
    )


def size(event: AuditEvent) -> int:
    return len(json.dumps(AuditEvent.objects.get(pk=event.pk).params, ensure_ascii=False))


@pytest.mark.django_db
def test_it_keeps_the_audit_page_small_with_events_of_a_megabyte_each(viewer_client):
    # Ten (a page shows 50): each row's share is what counts, and recording a megabyte takes a while.
    events = [huge_event(n) for n in range(10)]
    response = viewer_client.get(reverse("audit_list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert len(response.content) < 60_000, f"the page is {len(response.content):,} bytes"
    for event in events:
        assert f'id="event-{event.pk}"' in page
        assert f'href="{reverse("audit_detail", args=[event.pk])}"' in page
    row = page.split(f'<tr id="event-{events[0].pk}">')[1].split("</tr>")[0]
    assert "dangerous: false" in row
    assert "… 1 more</small>" in row  # the pairs past the first four
    assert "{'" not in row and "&#x27;" not in row  # no Python dict


@pytest.mark.django_db
def test_it_shows_the_whole_event_as_key_value_lines_on_its_own_page(viewer_client):
    event = record(
        "ada",
        "container.run",
        "web",
        "requested",
        engine="local",
        spec={"image": "httpd:2.4", "environment": ["A=1", "B=2"], "ports": [{"host": "8080", "container": "80"}]},
        dangerous=False,
    )
    response = viewer_client.get(reverse("audit_detail", args=[event.pk]))
    assert response.status_code == 200
    details = response.content.decode().split('id="event-details">')[1].split("</pre>")[0]
    assert details.splitlines() == [
        "dangerous: false",
        "spec:",
        "  environment:",
        "    - A=1",
        "    - B=2",
        "  image: httpd:2.4",
        "  ports:",
        "    -",
        "      container: 80",
        "      host: 8080",
    ]
    big = huge_event()
    page = viewer_client.get(reverse("audit_detail", args=[big.pk])).content.decode()
    assert "  image: busybox:latest" in page and "truncated: the details were" in page


@pytest.mark.django_db
def test_it_shows_an_event_only_to_who_can_see_its_engine(fleet, client):
    on_tls = record("ada", "container.stop", "web", "succeeded", engine="tls")
    on_local = record("ada", "container.stop", "web", "succeeded", engine="local")
    local_only = make_user("lou", None)
    EngineRole.objects.create(user=local_only, engine=Engine.objects.get(name="local"), role="Viewer")
    client.force_login(local_only)
    assert client.get(reverse("audit_detail", args=[on_local.pk])).status_code == 200
    assert client.get(reverse("audit_detail", args=[on_tls.pk])).status_code == 404
    assert client.get(reverse("audit_detail", args=[999_999])).status_code == 404


@pytest.mark.django_db
def test_it_bounds_what_the_run_form_puts_in_an_event(operator_client):
    response = operator_client.post(
        reverse("container_run", args=["local"]),
        {
            "image": "hello-world",
            "restart_policy": "no",
            "command": "echo " + "word " * 800,
            "environment": "\n".join(f"V{i}={'v' * 190}" for i in range(100)),
            "volumes": "\n".join(f"vol{i}:/data{i}{'d' * 170}" for i in range(100)),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="container.run", outcome="requested")
    assert size(event) <= PARAMS_LIMIT
    assert "head" not in event.params  # what is kept is still pairs, shown as lines
    assert event.params["spec"]["image"] == "hello-world:latest"
    assert "the details were" in event.params["truncated"]
    assert size(huge_event()) <= PARAMS_LIMIT
