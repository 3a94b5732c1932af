"""Strings from the engine (labels, environment, command, log lines) and from requests (an id in a URL)
are shown as text on every page, never as markup: on the server, and in real Chromium."""

from urllib.parse import quote

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import sign_in, wait_until

pytestmark = pytest.mark.hardening

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
PAYLOADS = (SCRIPT, IMG)
ESCAPED = {SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;", IMG: "&lt;img src=x onerror=alert(1)&gt;"}
COMMAND = f"echo '{SCRIPT}'; echo '{IMG}' >&2; echo ready; sleep 600"


def hostile_container(lab):
    """A running container whose labels, environment, command and log output hold the payloads;
    its name, which cannot hold them, uses every character a name may have, at the longest allowed."""
    name = lab.name("xss")
    name = (name + "._-" * 50)[:128]
    lab.names.append(name)
    lab.pull("httpd", "2.4")
    container = lab.client.containers.run(
        "httpd:2.4",
        ["/bin/sh", "-c", COMMAND],
        name=name,
        detach=True,
        labels={SCRIPT: IMG, "note": SCRIPT},
        environment=[f"XSS={SCRIPT}", f"IMG={IMG}"],
    )
    wait_until(lambda: b"ready" in container.logs(), message="the container to write its lines")
    container.reload()
    return container


def refuse_by_hostile_id(client) -> None:
    """A request naming a container id that holds markup: the refusal is recorded with that id."""
    url = "/engines/local/containers/" + quote(IMG) + "/stop/"
    assert client.post(url, {"grace": "0"}).status_code == 302


def assert_escaped(page: str, where: str, *shown: str) -> None:
    for payload in PAYLOADS:
        assert payload not in page, f"{where} has the raw markup {payload}"
    for payload in shown:
        assert ESCAPED[payload] in page, f"{where} does not show {payload} as text"


def test_every_page_shows_markup_from_the_engine_as_text(job_runner, lab, admin_client):
    container = hostile_container(lab)
    refuse_by_hostile_id(admin_client)
    # A run from the console whose command and environment hold the payloads: its job page and audit rows.
    run = {
        "image": "httpd:2.4",
        "name": lab.name("xssrun"),
        "restart_policy": "no",
        "follow": "on",
        "command": f"/bin/sh -c \"echo '{SCRIPT}'; echo '{IMG}'\"",
        "environment": f"XSS={SCRIPT}\nIMG={IMG}",
    }
    assert admin_client.post(reverse("container_run", args=["local"]), run).status_code == 302
    job = Job.objects.get(kind="container.run")
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=120, message="the run to finish")
    assert Job.objects.get(pk=job.pk).state == "succeeded"

    run_event = AuditEvent.objects.get(action="container.run", outcome="requested")
    hx = {"HTTP_HX_REQUEST": "true"}
    pages = [
        ("container list", reverse("container_list", args=["local"]) + "?all=1", {}, [SCRIPT, IMG]),
        ("container list partial", reverse("container_list", args=["local"]) + "?all=1", hx, [SCRIPT, IMG]),
        ("container details", reverse("container_detail", args=["local", container.id]), {}, [SCRIPT, IMG]),
        ("logs partial", reverse("container_logs", args=["local", container.id]), hx, [SCRIPT, IMG]),
        ("job page", reverse("job_detail", args=[job.pk]), {}, [SCRIPT, IMG]),
        ("job page partial", reverse("job_detail", args=[job.pk]), hx, [SCRIPT, IMG]),
        ("audit page", reverse("audit_list"), {}, []),  # a row shows a summary; the event's page all of it
        ("audit event page", reverse("audit_detail", args=[run_event.pk]), {}, [SCRIPT, IMG]),
        ("dashboard", reverse("dashboard", args=["local"]), {}, [IMG]),
        ("dashboard partial", reverse("dashboard", args=["local"]), hx, [IMG]),
        ("image details", reverse("image_detail", args=["local", container.image.id]), {}, []),
    ]
    for where, url, headers, shown in pages:
        response = admin_client.get(url, **headers)
        assert response.status_code in (200, 286), where  # 286: a finished job stops the poll
        assert_escaped(response.content.decode(), where, *shown)
    # The long name is shown where the image lists the containers using it, and on the dashboard.
    assert (
        container.name in admin_client.get(reverse("image_detail", args=["local", container.image.id])).content.decode()
    )
    assert container.name in admin_client.get(reverse("dashboard", args=["local"])).content.decode()


@pytest.mark.django_db(transaction=True)
def test_in_chromium_no_payload_runs_and_none_becomes_an_element(lab, browser_page, admin_client):
    container = hostile_container(lab)
    refuse_by_hostile_id(admin_client)
    job = Job.objects.create(
        kind="container.run",
        engine="local",
        target="httpd:2.4",
        requested_by_name="ada",
        state=Job.State.SUCCEEDED,
        output=f"{SCRIPT}\n{IMG}\n",
    )
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "ada")
    visits = [
        (f"/engines/local/containers/{container.id}/", "#log-lines", SCRIPT),  # the logs arrive by htmx
        (f"/engines/local/containers/{container.id}/", "#labels", SCRIPT),
        (f"/engines/local/containers/{container.id}/", "#env", IMG),
        ("/engines/local/containers/?all=1", "#container-list", container.name),
        (f"/jobs/{job.pk}/", "#job-output", IMG),
        ("/audit/", "#audit-table", IMG),
        ("/engines/local/", "#dashboard-audit", IMG),
        (f"/engines/local/images/{container.image.id}/", "main", container.name),
    ]
    for path, shown_in, text in visits:
        page.goto(path)
        expect(page.locator(shown_in)).to_contain_text(text)
        injected = page.evaluate(
            """() => ({
                images: document.querySelectorAll('img[src="x"], img[onerror]').length,
                scripts: [...document.scripts].filter((s) => s.textContent.includes('alert')).length,
            })"""
        )
        assert injected == {"images": 0, "scripts": 0}, path
    page.goto("/engines/local/containers/?all=1")  # the whole command is in the title of its cut-short cell
    assert SCRIPT in page.locator(f"#row-{container.id[:12]} td[title]").first.get_attribute("title")
    assert dialogs == []
