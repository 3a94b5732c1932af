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
