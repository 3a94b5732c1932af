"""What a new user tripped on in the image pages (issue #20): a remove preview and result that say what the
engine does, a missing image not blamed on the network, forms hidden from those who cannot use them, and a
plain rule for names in capitals."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.images_registries import import_image


@pytest.mark.django_db(transaction=True)
def test_it_says_names_are_lower_case_in_plain_words(browser_page, operator):
    page = browser_page
    sign_in(page, "otto")
    page.goto("/engines/local/images/pull/")
    page.fill("input[name=reference]", "library/Upper")
    page.click("button.primary")
    rule = "Image names are lower case: write library/upper, not library/Upper."
    expect(page.get_by_role("alert")).to_have_text(rule)


def test_the_rule_keeps_the_tag_and_registry_as_typed(operator_client):
    response = operator_client.post(reverse("image_pull_start", args=["local"]), {"reference": "Team/App:RC1"})
    assert response.status_code == 400
    assert "Image names are lower case: write team/app:RC1, not Team/App:RC1." in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_viewer_sees_no_forms_they_cannot_use(browser_page, viewer):
    image = import_image("console-tests/viewer-sees", "1")
    page = browser_page
    sign_in(page, "vera")
    page.goto("/engines/local/images/pull/")
    expect(page.locator("#pull-not-allowed")).to_contain_text("needs the Operator role on local")
    expect(page.locator("input[name=reference]")).to_have_count(0)
    expect(page.get_by_role("button", name="Pull")).to_have_count(0)
    expect(page.locator("#registry-config")).to_be_visible()  # where pulls go is still shown

    page.goto("/engines/local/images/")
    expect(page.locator("#image-table")).to_contain_text("console-tests/viewer-sees")
    expect(page.get_by_role("button", name="Prune dangling images")).to_have_count(0)
    expect(page.get_by_role("link", name="Pull an image")).to_have_count(0)
    expect(page.get_by_role("link", name="remove")).to_have_count(0)

    page.goto(f"/engines/local/images/{image}/")
    expect(page.locator("#image-tags")).to_contain_text("console-tests/viewer-sees:1")
    expect(page.locator("form[action*='/tag/']")).to_have_count(0)
    expect(page.get_by_role("link", name="Remove image…")).to_have_count(0)


def test_a_missing_image_says_the_mirror_has_none_and_the_fallback_failed(job_runner, browser_page, operator, registry):
    page = browser_page
    sign_in(page, "otto")
    page.goto("/engines/local/images/pull/")
    page.fill("input[name=reference]", "nosuchimage:1")
    page.click("button.primary")
    page.wait_for_url("**/jobs/*/")
    expect(page.locator("#job-state")).to_have_text("failed", timeout=30_000)
    error = page.locator("#job-error")
    expect(error).to_contain_text(f"nosuchimage:1 was not found on the mirror {registry}")
    expect(error).to_contain_text("the fallback to docker.io failed: docker.io could not be reached from the engine")
    expect(error).not_to_contain_text("The registry docker.io could not be reached")
    expect(page.locator("#pull-progress")).to_have_count(0)  # no "Downloaded 0B" over an empty bar
    expect(page.locator("#job-live")).not_to_contain_text("Downloaded 0B")


def _kept_running_image(lab) -> tuple[str, str, str]:
    """An image with one tag of its own (a commit of httpd) and a running container made from that tag."""
    lab.pull("httpd", "2.4")
    source = lab.client.containers.create("httpd:2.4", name=lab.name("source"))
    reference = f"console-tests/kept{source.id[:8]}:1"
    image = source.commit(*reference.split(":")).id
    keeper = lab.client.containers.run(reference, name=lab.name("keeper"), detach=True)
    keeper.reload()
    assert keeper.status == "running"
    return reference, image, keeper.name


@pytest.mark.django_db(transaction=True)
def test_removing_the_tag_of_a_running_containers_image_says_only_the_name_goes(browser_page, operator, lab):
    reference, image, keeper = _kept_running_image(lab)
    short = image.removeprefix("sha256:")[:12]
    page = browser_page
    sign_in(page, "otto")
    page.goto(f"/engines/local/images/remove/?ref={short}")  # by id: refused while the container runs
    expect(page.locator("#remove-refused")).to_contain_text("The engine refuses, forced or not")
    expect(page.get_by_role("button", name="Remove (force)")).to_have_count(0)

    page.goto(f"/engines/local/images/remove/?ref={reference}")
    outcome = page.locator("#remove-outcome")
    expect(outcome).to_contain_text("Only the name is removed")
    expect(outcome).to_contain_text("stays as <none> until the container is removed")
    expect(page.locator("#remove-preview")).not_to_contain_text("The image is deleted")
    expect(page.locator("#remove-blockers")).to_contain_text(f"{keeper} (running)")

    page.get_by_role("button", name="Remove (force)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Untagged {reference}")
    expect(page.locator("#result-summary")).to_have_text(
        f"The engine removed only the name: image {short} stays as <none> while container {keeper} uses it."
    )
    expect(page.locator("#result-lines")).to_contain_text(f"Untagged: {reference}")
    expect(page.locator("#result-lines")).not_to_contain_text("Deleted:")
    assert lab.client.api.inspect_image(image)["RepoTags"] == []  # the engine kept it, as <none>

    # docker ps shows the image's short id once its name is gone, not sha256:<64 hex>
    page.goto(f"/engines/local/containers/?q={keeper}")
    row = page.locator("tr", has_text=keeper)
    expect(row).to_contain_text(short)
    expect(row).not_to_contain_text("sha256:")


def test_forcing_off_a_stopped_containers_image_deletes_it_and_says_so(operator_client, lab):
    image = import_image("console-tests/stopped-user", "1")
    name = lab.name("stopped-user")
    lab.client.api.create_container("console-tests/stopped-user:1", command=["/nothing"], name=name)
    url = reverse("image_remove", args=["local"])
    preview = operator_client.get(url, {"ref": "console-tests/stopped-user:1"}).content.decode()
    assert "The image is deleted" in preview and "although a stopped container uses it" in preview
    result = operator_client.post(
        reverse("image_remove_confirm", args=["local"]), {"ref": "console-tests/stopped-user:1", "force": "1"}
    ).content.decode()
    assert "<h1>Removed console-tests/stopped-user:1</h1>" in result
    assert f"The engine deleted image {image[7:19]}." in result and f"Deleted: {image}" in result
    listing = operator_client.get(reverse("container_list", args=["local"]), {"all": "1", "q": name})
    assert [row.image for row in listing.context["window"].rows] == [image[7:19]]
    assert "sha256:" not in listing.content.decode().split("<tbody")[1]
