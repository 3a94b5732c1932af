"""In real Chromium: signing in, the layout at desktop and phone widths and in dark mode,
and the banner when the engine is away."""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from tests.conftest import sign_in

PAGES = ["/", "/engines/local/images/", "/engines/local/containers/", "/jobs/", "/audit/", "/engines/local/system/"]


@pytest.mark.django_db(transaction=True)
def test_a_person_signs_in_and_reaches_every_section(browser_page, admin):
    page = browser_page
    page.goto("/engines/local/images/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "ada")
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]")
    assert page.get_by_role("alert").inner_text().startswith("Your username and password did not match")
    sign_in(page, "ada")
    for label in ["Images", "Containers", "Jobs", "Audit", "System", "Dashboard"]:
        page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
        # expect waits for the page the click loads (is_visible/inner_text read whatever is there at once)
        expect(page.locator("nav a[aria-current=page]")).to_have_text(label)
        expect(page.locator("h1").first).to_be_visible()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_fit_the_screen_without_horizontal_scrolling(browser_page, admin, width, scheme):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme=scheme)
    sign_in(page, "ada")
    for path in PAGES:
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px ({scheme})"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(13, 17, 23)") == (scheme == "dark")


@pytest.mark.django_db(transaction=True)
def test_the_banner_says_the_engine_is_unreachable(browser_page, admin, settings):
    cache.clear()
    settings.DOCKER_HOST = "unix:///nonexistent/docker.sock"
    page = browser_page
    sign_in(page, "ada")
    page.goto("/engines/local/")  # an engine's trouble shows on its own pages
    banner = page.locator("#engine-banner")
    assert banner.is_visible()
    assert "Engine “local” unreachable" in banner.inner_text()
    assert "unix:///nonexistent/docker.sock" in banner.inner_text()
    cache.clear()
