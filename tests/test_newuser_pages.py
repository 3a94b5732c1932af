"""What a new user tripped on (issue 20, item 11): a bulk action on a filtered container list keeps the
filter; the pages load without a console error, a CSP refusal or a 404 (the favicon)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tests.conftest import sign_in

PAGES = [
    "/",
    "/engines/local/",
    "/engines/local/images/",
    "/engines/local/images/pull/",
    "/engines/local/containers/",
    "/engines/local/containers/?all=1",
    "/engines/local/containers/run/",
    "/engines/local/system/",
    "/jobs/",
    "/audit/",
    "/users/",
    "/engines/",
]


def complaints(page) -> list[str]:
    """Every console message of level error or warning, page error and 4xx/5xx response, as it happens."""
    seen: list[str] = []
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            seen.append(f"console {message.type}: {message.text}") if message.type in ("error", "warning") else None
        ),
    )
    page.on(
        "response",
        lambda response: seen.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    return seen


@pytest.mark.django_db(transaction=True)
def test_it_loads_the_main_pages_without_a_console_error_a_csp_refusal_or_a_missing_favicon(browser_page, admin, lab):
    lab.httpd("pages")  # a running container, so the containers page has rows to show
    lab.hello("pages")
    page = browser_page
    seen = complaints(page)
    sign_in(page, "ada")
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.locator("link[rel=icon]").count() == 1, path
    assert not seen, seen
    icon = page.evaluate("fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)")
    assert icon == 200


@pytest.mark.django_db
def test_it_keeps_the_filter_after_a_bulk_action(operator_client, lab):
    one = lab.hello("bulk")
    url = reverse("container_list", args=["local"])
    listing = operator_client.get(url, {"q": one.name, "all": "1", "sort": "names", "dir": "desc"})
    page = listing.content.decode()
    assert 'name="back"' in page  # the filter the bulk form sends back
    back = page.split('name="back" value="')[1].split('"')[0].replace("&amp;", "&")
    response = operator_client.post(
        reverse("container_bulk", args=["local"]), {"action": "start", "ids": [one.id], "back": back}
    )
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == url
    assert parse_qs(location.query) == {"q": [one.name], "all": ["1"], "sort": ["names"], "dir": ["desc"]}


@pytest.mark.django_db
def test_it_keeps_only_the_list_parameters_after_a_bulk_action(operator_client):
    response = operator_client.post(
        reverse("container_bulk", args=["local"]),
        {"action": "stop", "ids": [], "back": "q=web&next=https://evil.example/&sort=name&x=1"},
    )
    location = urlsplit(response["Location"])
    assert location.netloc == "" and location.path == reverse("container_list", args=["local"])
    assert parse_qs(location.query) == {"q": ["web"], "sort": ["name"]}
