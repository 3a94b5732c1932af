"""What a new user tripped on (issue 20, item 10): at 1280 and 390 px the main pages fit the window with a
250-character job reference present; the disk table scrolls inside its card instead of breaking its headers;
ids and image tags stay whole; relative times read in lower case mid-sentence."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from console.jobs.models import Job
from console.templatetags.console_tags import ago
from tests.conftest import sign_in

LONG_REFERENCE = "127.0.0.1:5000/te/" + "abcdefghij" * 23 + ":1"  # 250 characters, nowhere to wrap
PAGES = [
    "/",
    "/engines/local/",
    "/engines/local/images/",
    "/engines/local/images/pull/",
    "/engines/local/containers/?all=1",
    "/engines/local/system/",
    "/jobs/",
    "/engines/local/networks/",
    "/engines/local/networks/bridge/",
    "/engines/local/volumes/",
]
DISK_ROWS = [
    {"type": "Images", "total": 12, "active": 3, "size": 1_234_567_890, "reclaimable": 987_654_321},
    {"type": "Containers", "total": 40, "active": 2, "size": 12_345_678, "reclaimable": 2_345_678},
    {"type": "Local Volumes", "total": 5, "active": 1, "size": 123_456_789, "reclaimable": 3_456_789},
    {"type": "Build Cache", "total": 0, "active": 0, "size": 0, "reclaimable": 0},
]
# Taller than the same element kept on one line: its text was broken across lines.
WRAPPED = """el => {
  const before = el.getBoundingClientRect().height;
  const kept = el.style.whiteSpace;
  el.style.whiteSpace = "nowrap";
  const after = el.getBoundingClientRect().height;
  el.style.whiteSpace = kept;
  return before > after + 1;
}"""


def seed_jobs() -> None:
    now = timezone.now()
    Job.objects.create(
        kind="image.pull",
        engine="local",
        target=LONG_REFERENCE,
        state=Job.State.FAILED,
        requested_by_name="ada",
        started=now,
        finished=now,
        error="manifest unknown",
    )
    Job.objects.create(
        kind="system.df",
        engine="local",
        target="disk usage",
        state=Job.State.SUCCEEDED,
        requested_by_name="ada",
        started=now,
        finished=now,
        result={"rows": DISK_ROWS},
    )


@pytest.fixture
def seeded(db, admin, lab):
    assert len(LONG_REFERENCE) == 250
    lab.pull("httpd", "2.4")
    lab.httpd("layout")
    lab.hello("layout")
    seed_jobs()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_the_main_pages_fit_the_window(browser_page, seeded, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "ada")
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        wide = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], f"{path} at {width} px is {wide[0]} px wide"
    page.goto(reverse("dashboard", args=["local"]))
    assert LONG_REFERENCE in page.locator("#dashboard-jobs").inner_text()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_the_disk_table_keeps_its_headers_whole_inside_its_card(browser_page, seeded, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "ada")
    for path in ("/engines/local/", "/engines/local/system/"):
        page.goto(path)
        table = page.locator("#disk-use table")
        for cell in table.locator("th").all() + table.locator("tbody td:first-child").all():
            assert not cell.evaluate(WRAPPED), f"{cell.inner_text()!r} is broken across lines on {path} at {width} px"
        inside = table.evaluate(
            """t => { const card = t.closest(".card").getBoundingClientRect(), box = t.getBoundingClientRect();
                      return box.left >= card.left - 1 && box.right <= card.right + 1; }"""
        )
        assert inside, f"the disk table overflows its card on {path} at {width} px"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_ids_and_image_tags_stay_on_one_line_and_the_pull_input_fits(browser_page, seeded, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "ada")
    page.goto("/engines/local/containers/?all=1")
    for code in page.locator("#container-list tbody td:nth-child(2) code").all():
        assert not code.evaluate(WRAPPED), f"container id {code.inner_text()} wraps at {width} px"
    page.goto("/engines/local/images/")
    for cell in (
        page.locator("#image-table tbody tr td:nth-child(2)").all() + page.locator("#image-table tbody code").all()
    ):
        assert not cell.evaluate(WRAPPED), f"{cell.inner_text()!r} wraps at {width} px"
    page.goto("/engines/local/images/pull/")
    right = page.locator('input[name="reference"]').evaluate("el => el.getBoundingClientRect().right")
    assert right <= page.evaluate("window.innerWidth")


def test_relative_times_read_in_lower_case_mid_sentence(admin_client, seeded):
    assert ago(timezone.now()) == "less than a second ago"
    page = admin_client.get(reverse("dashboard", args=["local"])).content.decode()
    assert re.search(r'Computed <span title="[^"]+">less than a (second|minute) ago</span>', page)
    assert "Less than" not in page
    page = admin_client.get(reverse("container_list", args=["local"])).content.decode()
    assert "Up Less than" not in page
