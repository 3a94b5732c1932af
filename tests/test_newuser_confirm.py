"""What a new user tripped on (issue 20, item 7): Kill, Remove and the bulk Remove on containers, and
image Prune, say what they will do (names, counts, space) and act only once confirmed."""

import docker
import docker.errors
import pytest
from django.urls import reverse
from django.utils import timezone

from console import snapshot
from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import sign_in
from tests.images_registries import import_image


@pytest.mark.django_db(transaction=True)
def test_it_confirms_a_forced_bulk_remove_naming_the_running_containers(browser_page, operator, lab):
    up, done = lab.httpd("bulk-up"), lab.hello("bulk-done")
    snapshot.invalidate("containers")
    page = browser_page
    sign_in(page, "otto")
    page.goto(reverse("container_list", args=["local"]) + "?all=1")
    page.check(f'input[name="ids"][value="{up.id}"]')
    page.check(f'input[name="ids"][value="{done.id}"]')
    page.check('#bulk input[name="force"]')
    page.click('#bulk button[value="remove"]')

    intro = page.locator("#confirm-intro").inner_text()
    assert "You are about to remove 2 containers with force" in intro
    items = page.locator("#confirm-items").inner_text()
    assert f"{up.name} — running" in items and "killed, then removed" in items
    assert f"{done.name} — exited" in items
    assert "1 running container will be killed and removed" in page.locator("#confirm").inner_text()
    assert lab.exists(up.name) and lab.exists(done.name)  # nothing done yet
    assert not AuditEvent.objects.filter(action="container.remove").exists()

    page.click("#confirm-button")
    page.wait_for_url(lambda url: "/containers/" in url and "bulk" not in url)
    assert "all=1" in page.url  # back to the list it came from
    assert not lab.exists(up.name) and not lab.exists(done.name)
    assert AuditEvent.objects.filter(action="container.remove", outcome="succeeded").count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_confirms_kill_and_remove_on_the_container_page(browser_page, operator, lab):
    up = lab.httpd("kill-me")
    page = browser_page
    sign_in(page, "otto")
    page.goto(reverse("container_detail", args=["local", up.id]))
    page.get_by_role("button", name="Kill").click()
    assert f"You are about to send SIGKILL to {up.name}" in page.locator("#confirm-intro").inner_text()
    assert "no chance to finish its work" in page.locator("#confirm").inner_text()
    assert lab.get(up.name).status == "running"
    page.click("#confirm-button")
    page.wait_for_url(lambda url: url.rstrip("/").endswith(up.id))
    assert lab.get(up.name).status == "exited"

    page.check('#actions input[name="volumes"]')
    page.get_by_role("button", name="Remove", exact=True).click()
    text = page.locator("#confirm").inner_text()
    assert f"You are about to remove {up.name} ({up.short_id})" in text
    assert "anonymous volumes are removed too" in text
    assert lab.exists(up.name)
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(lambda url: url.rstrip("/").endswith(up.id))
    assert lab.exists(up.name)

    page.get_by_role("button", name="Remove", exact=True).click()
    page.click("#confirm-button")
    page.wait_for_url(lambda url: url.rstrip("/").endswith("/containers"))
    assert not lab.exists(up.name)


def test_a_viewer_is_still_refused_before_any_confirmation(viewer_client, lab):
    up = lab.httpd("viewer-kill")
    response = viewer_client.post(reverse("container_kill", args=["local", up.id]), {"signal": "SIGKILL"})
    assert response.status_code == 403 and "You are about to" not in response.content.decode()
    assert AuditEvent.objects.filter(action="container.kill", outcome="denied").exists()


@pytest.mark.serial  # counts what the whole engine holds
def test_prune_says_the_dangling_images_and_the_space_then_prunes_once_confirmed(operator_client):
    dangling = import_image(size=1_000_000)
    snapshot.invalidate("images")
    url = reverse("image_prune", args=["local"])
    page = operator_client.post(url).content.decode()
    assert "You are about to delete" in page and "dangling image" in page
    assert dangling.removeprefix("sha256:")[:12] in page
    assert "Space to be freed: unknown" in page
    docker.from_env().api.inspect_image(dangling)  # still there
    assert not AuditEvent.objects.filter(action="image.prune").exists()

    rows = [{"type": "Images", "total": 3, "active": 1, "size": 9_000_000, "reclaimable": 4_200_000}]
    Job.objects.create(
        kind="system.df",
        engine="local",
        target="disk usage",
        state=Job.State.SUCCEEDED,
        finished=timezone.now(),
        result={"rows": rows},
    )
    page = operator_client.post(url).content.decode()
    assert "Space to be freed: at most 4.2MB" in page

    page = operator_client.post(url, {"confirm": "yes"}).content.decode()
    assert f"Deleted: {dangling}" in page
    with pytest.raises(docker.errors.ImageNotFound):
        docker.from_env().api.inspect_image(dangling)
