"""The main journeys, clicked through in real Chromium with the lab engine:
an Operator pulls, looks, runs, stops, removes and finds it all in the audit trail; a Viewer sees
everything and can change nothing. The detail pages fit the screen at desktop and phone widths."""

import csv
import io
import re
import time

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.containers_lab import served
from tests.images_registries import SlowRegistry, forget, forget_repositories
from tests.lab import HELLO_TEXT

LAYOUTS = [(width, scheme) for width in (1280, 390) for scheme in ("light", "dark")]
# The deepest elements that reach, or spill their text, past the right edge: what to fix when a page scrolls sideways.
TOO_WIDE = """() => {
  const edge = document.documentElement.clientWidth + 1;
  const wide = e => e.getBoundingClientRect().right > edge
    || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'
        && e.getBoundingClientRect().left + e.scrollWidth > edge);
  return [...document.querySelectorAll('body *')].filter(wide).filter(e => ![...e.children].some(wide))
    .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')
      + ' “' + e.textContent.trim().slice(0, 40) + '”');
}"""
# What a pull's bars say on the job page, sampled from the page as it changes.
BARS = """() => ({
  state: document.querySelector('#job-state').textContent,
  overall: Number(document.querySelector('#pull-overall')?.value ?? 0),
  layers: [...document.querySelectorAll('#pull-layers tbody tr')].map(
    row => [row.cells[1].textContent.trim(), row.querySelector('progress').position]),
})"""


def assert_fits_everywhere(page) -> None:
    """The current page, at 1280 and 390 px, light and dark: no sideways scrolling."""
    for width, scheme in LAYOUTS:
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        page.reload()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (
            f"{page.url} scrolls sideways by {overflow}px at {width}px ({scheme}): {page.evaluate(TOO_WIDE)}"
        )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="light")


def watch_the_pull(page) -> list[dict]:
    """What the job page shows, sampled until the pull has finished; the page is never reloaded."""
    page.evaluate("window.stillThisPage = true")
    seen = [page.evaluate(BARS)]
    deadline = time.monotonic() + 120
    while seen[-1]["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"the pull did not finish: {seen[-1]}"
        page.wait_for_timeout(50)
        seen.append(page.evaluate(BARS))
    assert page.evaluate("window.stillThisPage === true")  # htmx changed it in place
    return seen


@pytest.mark.serial  # forgets and pulls the lab's shared images: another pull of their layers would hide the progress
def test_an_operator_pulls_runs_stops_removes_and_finds_it_all_in_the_audit_trail(
    job_runner,
    browser_page,
    operator,
    registry,
    lab,
    settings,
):
    link = SlowRegistry(registry, rate=6_000_000)  # httpd:2.2 across a slow network: the bars take seconds
    settings.ALLOWED_REGISTRIES = [link.host]  # on 127.0.0.1 and not in the engine's configuration
    httpd_22 = f"{link.host}/library/httpd:2.2"
    forget_repositories("httpd", "hello-world")  # under any name: the filter below counts httpd rows
    lab.pull("httpd", "2.4")
    lab.pull("httpd", "latest")
    page = browser_page
    sign_in(page, "otto")

    # Pull httpd:2.2 and watch its five layers' bars move and fill up, live.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Images").click()
    page.get_by_role("link", name="Pull an image").click()
    page.fill("input[name=reference]", httpd_22)
    page.click("button.primary")
    page.wait_for_url("**/jobs/*/")
    pull_job = page.url
    seen = watch_the_pull(page)
    link.stop()
    assert seen[-1]["state"] == "succeeded"
    overall = [s["overall"] for s in seen]
    assert overall == sorted(overall), "the overall bar went backwards"
    moving = {s["overall"] for s in seen} - {0, overall[-1]}
    assert len(moving) >= 2, f"the overall bar never moved: {overall}"
    assert any(0 < position < 1 for s in seen for status, position in s["layers"] if status.startswith("Downloading"))
    statuses = [status for status, _ in seen[-1]["layers"]]
    # (its two lowest layers are httpd:2.4's, which the engine has)
    assert statuses.count("Pull complete") == 3 and statuses.count("Already exists") == 2, statuses
    assert all(position == 1 for _, position in seen[-1]["layers"])  # every bar is full
    expect(page.locator("#pull-status")).to_have_text(f"Downloaded newer image for {httpd_22}")
    assert_fits_everywhere(page)

    # The list shows both tags of httpd (one image) next to 2.2; 2.2 has its own details.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Images").click()
    page.locator("#image-filter").press_sequentially("httpd")
    rows = page.locator("#image-table tbody tr")
    expect(rows).to_have_count(3)
    tags = {row.locator("td").nth(1).inner_text(): row.locator("td").nth(2).inner_text() for row in rows.all()}
    assert set(tags) == {"2.2", "2.4", "latest"} and tags["2.4"] == tags["latest"] != tags["2.2"], tags
    rows.filter(has_text="2.2").get_by_role("link", name="details").click()
    expect(page.locator("#image-tags")).to_contain_text(httpd_22)
    assert_fits_everywhere(page)

    # Run hello-world from the run form and read its message on the job page.
    hello = lab.name("hello")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Containers").click()
    page.get_by_role("link", name="Run a container").click()
    page.fill("#id_image", "hello-world")
    page.fill("#id_name", hello)
    page.get_by_role("button", name="Run").click()
    page.wait_for_url("**/jobs/*/")
    expect(page.locator("#job-state")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("#run-exit-code")).to_have_text("0")
    output = page.locator("#job-output").inner_text()
    assert HELLO_TEXT.strip() in output

    # Run httpd:2.4 published on 127.0.0.1, see its log lines arrive, stop it.
    web = lab.name("web")
    page.goto("/engines/local/containers/run/")
    page.fill("#id_image", "httpd:2.4")
    page.fill("#id_name", web)
    page.fill("#id_ports", "80")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url("**/jobs/*/")
    expect(page.locator("#job-output")).to_contain_text("httpd 2.4: serving /www on port 80", timeout=60_000)
    page.evaluate("window.stillThisPage = true")
    served(lab.get(web))
    expect(page.locator("#job-output")).to_contain_text("response:200")  # a new line, live
    assert page.evaluate("window.stillThisPage === true")
    run_job = page.url
    page.get_by_role("link", name=web).click()  # its details, while it runs
    expect(page.locator("#container-status")).to_have_text("running")
    expect(page.locator("#log-lines")).to_contain_text("serving /www")
    assert_fits_everywhere(page)
    page.goto(run_job)
    page.fill("input[name=grace]", "1")
    page.locator("#run-stop").click()
    expect(page.locator("#job-state")).to_have_text("succeeded", timeout=30_000)
    expect(page.locator("#run-exit-code")).to_have_text(re.compile(r"^(137|143)$"))  # SIGTERM, then SIGKILL
    assert lab.get(web).status == "exited"

    # Remove httpd:latest through the preview: the preview and the result say it is only untagged.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Images").click()
    page.locator("#image-filter").press_sequentially("httpd")
    expect(rows).to_have_count(3)
    rows.filter(has_text="latest").get_by_role("link", name="remove").click()
    preview = page.locator("#remove-preview")
    expect(preview).to_contain_text("Untagged: httpd:latest")
    expect(preview).to_contain_text("The image stays: other tags still point at it.")
    page.get_by_role("button", name="Remove", exact=True).click()
    result = page.locator("#result-lines").inner_text()
    assert "Untagged: httpd:latest" in result and "Deleted:" not in result
    page.get_by_role("link", name="Back to the images").click()
    page.locator("#image-filter").press_sequentially("httpd")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="latest")).to_have_count(0)
    assert lab.client.images.get("httpd:2.4")  # the image itself stayed

    # All of it is on the Audit page, and in its CSV export.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    table = page.locator("#audit-table")
    expected = [
        ("image.pull", httpd_22, "succeeded"),
        ("container.run", hello, "succeeded"),  # an outcome names the container it made
        ("container.run", web, "succeeded"),
        ("container.stop", web, "succeeded"),
        ("image.remove", "httpd:latest", "succeeded"),
    ]
    for action, target, outcome in expected:
        row = table.locator("tr", has_text=action).filter(has_text=target).filter(has_text=outcome)
        expect(row.first).to_be_visible()
    page.fill("#id_user", "otto")
    page.get_by_role("button", name="Filter").click()
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    assert download.value.suggested_filename.endswith(".csv")
    exported = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert {row["actor_name"] for row in exported} == {"otto"}
    got = {(row["action"], row["target"], row["outcome"]) for row in exported}
    assert set(expected) <= got, got
    assert ("image.pull", httpd_22, "requested") in got
    assert page.evaluate("location.pathname") == "/audit/"
    page.goto(pull_job)  # the pull's page still tells the whole story afterwards
    expect(page.locator("#pull-layers progress")).to_have_count(5)
    forget(httpd_22)
    lab.client.api.tag("httpd:2.4", "httpd", "latest")  # leave the engine as the lab made it


@pytest.mark.django_db(transaction=True)
def test_a_viewer_sees_everything_and_finds_no_button_that_changes_anything(
    browser_page,
    viewer,
    lab,
):
    container = lab.httpd("viewed")
    image = lab.client.images.get("httpd:2.4")
    page = browser_page
    sign_in(page, "vera")
    main = page.locator("main")
    for path in [
        "/",
        "/engines/local/images/",
        f"/engines/local/images/{image.id}/",
        "/engines/local/containers/?all=1",
        f"/engines/local/containers/{container.id}/",
    ]:
        page.goto(path)
        expect(page.locator("h1").first).to_be_visible()
        expect(main.locator("form[method=post]")).to_have_count(0)
        expect(main.locator("button:not(.link)")).to_have_count(0)  # "refresh" (the processes) is all
        for label in ("Pull an image", "Run a container", "Remove image…", "remove", "tag"):
            expect(main.get_by_role("link", name=label, exact=True)).to_have_count(0)
    expect(page.locator("#log-lines")).to_contain_text("serving /www")  # she does see the logs

    for forced, needed in [("/engines/local/containers/run/", "Operator"), ("/users/", "Admin")]:
        response = page.goto(forced)
        assert response.status == 403
        expect(page.locator("h1")).to_have_text("Not allowed")
        expect(page.locator("main")).to_contain_text(f"This needs the {needed} role. You have Viewer.")
