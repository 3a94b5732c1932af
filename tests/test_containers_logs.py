"""Logs: the last lines, then live while the page is open, stdout and stderr apart, and the whole log as a download."""

import re

from tests.conftest import wait_until
from tests.containers_lab import served

HTMX = {"HX-Request": "true"}


def cursor(page: str) -> str:
    return re.search(r'id="log-poller" hx-get="[^"?]+\?after=(\d+)"', page).group(1)


def test_httpd_log_lines_appear_live_with_stderr_told_apart(lab, viewer_client):
    up = lab.httpd()
    url = f"/engines/local/containers/{up.id}/logs/"
    page = viewer_client.get(url, headers=HTMX).content.decode()
    assert re.search(
        r'<div class="line stdout" title="stdout"><time class="ts" [^>]+>[^<]+</time>httpd 2.4: serving', page
    )
    after = cursor(page)

    # nothing new yet: the poll answers with no content, so the page keeps what it has
    assert viewer_client.get(url, {"after": after}, headers=HTMX).status_code == 204

    assert b"It works!" in served(up)

    def poll():
        response = viewer_client.get(url, {"after": after}, headers=HTMX)
        return response.content.decode() if response.status_code == 200 else None

    news = wait_until(poll, timeout=20, message="the request's log line")
    assert re.search(r'<div class="line stderr" title="stderr">.*response:200</div>', news)
    assert "httpd 2.4: serving" not in news  # only what is newer than the cursor
    assert 'hx-swap-oob="true"' in news and cursor(news) != after  # the poller moves on


def test_the_window_is_bounded_and_the_tail_is_chosen(lab, viewer_client):
    lab.pull("httpd", "2.4")
    chatty = lab.client.containers.run("httpd:2.4", ["sh", "-c", "seq 1 3000"], name=lab.name("chatty"), detach=True)
    chatty.wait()
    url = f"/engines/local/containers/{chatty.id}/logs/"
    page = viewer_client.get(url).content.decode()
    assert page.count('<div class="line stdout"') == 200 and ">3000</div>" in page and ">2800</div>" not in page
    page = viewer_client.get(url, {"tail": 1000}).content.decode()
    assert page.count('<div class="line stdout"') == 1000 and 'data-window="1000"' in page
    # a poll from an empty window brings at most the window's worth, the newest ones
    page = viewer_client.get(url, {"after": 0}, headers=HTMX).content.decode()
    assert page.count('<div class="line stdout"') == 1000 and ">3000</div>" in page and ">2000</div>" not in page


def test_the_whole_log_downloads_with_or_without_timestamps(lab, viewer_client):
    lab.pull("httpd", "2.4")
    both = lab.client.containers.run(
        "httpd:2.4", ["sh", "-c", "seq 1 5000; echo oops >&2"], name=lab.name("download"), detach=True
    )
    both.wait()
    response = viewer_client.get(f"/engines/local/containers/{both.id}/logs/download/")
    assert response.streaming and response["Content-Disposition"] == f'attachment; filename="{both.name}.log"'
    lines = b"".join(response.streaming_content).decode().splitlines()
    # both streams, each in its own order (the engine interleaves them as they arrive)
    assert [line for line in lines if line != "oops"] == [str(n) for n in range(1, 5001)] and "oops" in lines
    response = viewer_client.get(f"/engines/local/containers/{both.id}/logs/download/", {"timestamps": "1"})
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 5001
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z (\d+|oops)", line) for line in lines)


def test_logs_of_an_unknown_container_stop_the_polling(viewer_client):
    response = viewer_client.get("/engines/local/containers/nope-not-here/logs/", {"after": 1}, headers=HTMX)
    assert response.status_code == 286
    assert viewer_client.get("/engines/local/containers/nope-not-here/logs/download/").status_code == 404
