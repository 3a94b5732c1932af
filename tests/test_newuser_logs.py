"""What a new user tripped on (issue 20, item 8): the logs have a filter that narrows the shown window and
searches the whole log on the server, bounded, saying how many lines matched and when the bound was hit."""

import re

import pytest
from django.urls import reverse

from console.containers.views import LOG_SEARCH_LINES
from tests.conftest import sign_in, wait_until
from tests.containers_lab import served

HTMX = {"HX-Request": "true"}


def shown(page: str) -> list[str]:
    return re.findall(r'<div class="line std\w+" [^>]*><time [^>]*>[^<]*</time>([^<]*)</div>', page)


def chatty(lab, purpose: str, script: str):
    lab.pull("httpd", "2.4")
    container = lab.client.containers.run("httpd:2.4", ["sh", "-c", script], name=lab.name(purpose), detach=True)
    container.wait()
    return container


def test_it_filters_the_whole_log_in_any_case_and_counts_the_matches(lab, viewer_client):
    c = chatty(lab, "search", "echo Needle in the HAYSTACK; seq 1 3000")
    url = reverse("container_logs", args=["local", c.id])
    page = viewer_client.get(url, {"q": "haystack"}).content.decode()
    assert shown(page) == ["Needle in the HAYSTACK"]  # 3,000 lines older than the window of 200: found all the same
    assert "1 line matches “haystack” in the whole log (3,001 lines)" in page
    assert 'id="log-bounded"' not in page

    page = viewer_client.get(url, {"q": "29", "tail": 100}).content.decode()
    matching = [str(n) for n in range(1, 3001) if "29" in str(n)]
    assert f"{len(matching)} lines match “29”" in page
    assert shown(page) == matching[-100:]  # the window narrowed to the newest matches
    assert "the newest 100 are shown" in page


def test_the_search_is_bounded_and_says_so(lab, viewer_client):
    total = LOG_SEARCH_LINES + 20_000
    c = chatty(lab, "bounded", f"seq 1 {total}")
    page = viewer_client.get(reverse("container_logs", args=["local", c.id]), {"q": "9999"}).content.decode()
    searched = range(total - LOG_SEARCH_LINES + 1, total + 1)
    matching = [str(n) for n in searched if "9999" in str(n)]
    assert f"{len(matching)} lines match “9999” in the last 100,000 lines" in page
    assert "older lines were not searched" in page
    assert shown(page) == matching


def test_the_live_lines_are_filtered_too(lab, viewer_client):
    up = lab.httpd("live-filter")
    url = reverse("container_logs", args=["local", up.id])
    page = viewer_client.get(url, {"q": "response:200"}, headers=HTMX).content.decode()
    assert shown(page) == [] and "0 lines match" in page
    after = re.search(r'id="log-poller" hx-get="[^"?]+\?after=(\d+)&amp;q=response%3A200"', page).group(1)
    served(up)

    def poll(q: str):
        response = viewer_client.get(url, {"after": after, "q": q}, headers=HTMX)
        return response.content.decode() if response.status_code == 200 else None

    news = wait_until(lambda: poll("RESPONSE:200"), timeout=20, message="the request's log line")
    assert len(shown(news)) == 1 and "response:200" in shown(news)[0]
    quiet = poll("no such text") or ""
    assert shown(quiet) == []


@pytest.mark.django_db(transaction=True)
def test_a_person_filters_the_logs_on_the_container_page(browser_page, viewer, lab):
    c = chatty(lab, "browse", f"seq 1 {LOG_SEARCH_LINES + 5_000}")
    page = browser_page
    sign_in(page, "vera")
    page.goto(reverse("container_detail", args=["local", c.id]))
    page.wait_for_selector("#log-lines .line")
    page.fill("#log-filter", "77777")
    page.wait_for_selector("#log-matches")
    assert "1 line matches “77777” in the last 100,000 lines" in page.locator("#log-matches").inner_text()
    assert page.locator("#log-bounded").is_visible()
    assert page.locator("#log-lines .line").all_inner_texts() == ["77777"]
    assert page.evaluate("document.activeElement.id") == "log-filter"  # typing goes on where it was

    page.fill("#log-filter", "")
    page.wait_for_selector("#log-matches", state="detached")
    assert page.locator("#log-lines .line").count() == 200
