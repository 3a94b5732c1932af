"""In real Chromium: a tab whose CSRF token went stale, or whose session ended, says "your session expired —
reload" when htmx asks the server for something, and never swaps an error or the login page into a fragment."""

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in

pytestmark = pytest.mark.hardening

NOTICE = "#session-notice"


def run_in_container(page, command: str) -> None:
    page.fill("input[name=command]", command)
    page.get_by_role("button", name="Run", exact=True).click()


def assert_nothing_swapped_in(page) -> None:
    html = page.content()
    for sign in ("CSRF verification failed", "Forbidden", 'id="id_password"', "Not allowed"):
        assert sign not in html, sign


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["cookie cleared", "signed in again elsewhere"])
def test_an_htmx_post_with_a_stale_csrf_token_says_reload(lab, browser_page, operator, how):
    container = lab.httpd("stale")
    page = browser_page
    sign_in(page, "otto")
    page.goto(f"/engines/local/containers/{container.id}/")
    # an exec answers within seconds, more on a busy machine: wait for its answer, then look at the fragment
    with page.expect_response(lambda r: "/exec/" in r.url, timeout=30_000) as fresh:
        run_in_container(page, "echo fresh")
    assert fresh.value.status == 200
    expect(page.locator("#exec-result")).to_contain_text("fresh")  # a fresh token works

    if how == "cookie cleared":
        # A live poll already on its way when the cookie is cleared brings it back with its answer: clear it
        # until half a second passes with none.
        for _ in range(10):
            page.context.clear_cookies(name="csrftoken")
            page.wait_for_timeout(500)
            if not any(c["name"] == "csrftoken" for c in page.context.cookies()):
                break
    else:  # signing out and in again in another tab rotates the CSRF token: this tab still holds the old one
        other = page.context.new_page()
        other.goto("/")
        other.get_by_role("button", name="Sign out").click()
        sign_in(other, "otto")
        other.close()
    with page.expect_response(lambda r: "/exec/" in r.url) as answer:
        run_in_container(page, "echo stale")
    assert answer.value.status == 403
    expect(page.locator(NOTICE)).to_contain_text("session expired")
    expect(page.locator(NOTICE)).to_contain_text("reload")
    expect(page.locator("#exec-result")).to_contain_text("fresh")  # the fragment kept what it had
    assert_nothing_swapped_in(page)


@pytest.mark.django_db(transaction=True)
def test_an_htmx_request_after_the_session_ended_says_reload(lab, browser_page, viewer):
    container = lab.httpd("ended")
    page = browser_page
    sign_in(page, "vera")
    page.goto("/engines/local/containers/")
    expect(page.locator("#container-list")).to_contain_text(container.name)
    page.context.clear_cookies(name="sessionid")
    with page.expect_response(lambda r: "q=" in r.url) as answer:
        page.locator("#container-filter").press_sequentially("zz")
    assert answer.value.status == 401
    expect(page.locator(NOTICE)).to_contain_text("session expired")
    expect(page.locator("#container-list")).to_contain_text(container.name)  # the table was not replaced
    assert_nothing_swapped_in(page)


@pytest.mark.django_db(transaction=True)
def test_a_plain_form_with_a_stale_token_gets_a_page_that_says_reload(lab, browser_page, operator):
    container = lab.httpd("plain")
    page = browser_page
    sign_in(page, "otto")
    page.goto(f"/engines/local/containers/{container.id}/")
    page.context.clear_cookies(name="csrftoken")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("body")).to_contain_text("session expired")
    expect(page.locator("body")).to_contain_text("reload")
    lab.client.containers.get(container.id).reload()
    assert lab.client.containers.get(container.id).status == "running"
