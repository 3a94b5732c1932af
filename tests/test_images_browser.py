"""The image pages in a real browser: filter as you type, and a pull's live per-layer bars."""

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.images_registries import import_image


def console_errors(page) -> list[str]:
    """What the browser complains about (a CSP refusal, a script error, a failed request), as it happens."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    return errors


@pytest.mark.django_db(transaction=True)
def test_the_list_filters_as_you_type_and_sorts(browser_page, viewer):
    import_image("console-tests/browser-filter", "1")
    import_image("console-tests/other", "1")
    page = browser_page
    errors = console_errors(page)
    sign_in(page, "vera")
    page.goto("/engines/local/images/")
    rows = page.locator("#image-table tbody tr")
    expect(rows.filter(has_text="console-tests/other")).to_have_count(1)
    page.locator("#image-filter").press_sequentially("browser-fil")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("console-tests/browser-filter")
    expect(page.locator("#image-summary")).to_contain_text("1 image (1 row)")
    assert "q=browser-fil" in page.url  # the filter survives a reload
    page.get_by_role("link", name="Size").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Size")
    expect(rows).to_have_count(1)  # sorting keeps the filter
    assert not errors


def test_a_pull_shows_live_layer_bars_and_can_be_cancelled(job_runner, browser_page, operator, slow_reference):
    link, reference = slow_reference
    page = browser_page
    errors = console_errors(page)
    sign_in(page, "otto")
    page.goto("/engines/local/images/pull/")
    page.fill("input[name=reference]", "Not/Valid")
    page.click("button.primary")
    expect(page.get_by_role("alert")).to_contain_text("Image names are lower case: write not/valid, not Not/Valid.")
    assert errors == [f"400 {page.base}/engines/local/images/pull/start/"]  # the refused form, and nothing else
    errors.clear()

    page.fill("input[name=reference]", reference)
    page.click("button.primary")
    page.wait_for_url("**/jobs/*/")
    layers = page.locator("#pull-layers")
    expect(layers).to_contain_text("Downloading")  # arrives through htmx polling, no reload
    overall = page.locator("#pull-overall")
    expect(overall).not_to_have_attribute("value", "0")
    page.reload()
    expect(page.locator("#pull-layers progress")).to_have_count(1)  # the one layer, still there after a reload

    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#job-state")).to_have_text("cancelled", timeout=30_000)
    assert link.aborted.wait(30)
    assert not errors
