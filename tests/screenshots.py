"""`make screenshots`: a whole console on a fresh database does some real work on the lab's engines, and
real Chromium saves the fleet page, the drift view, an engine's dashboard, a pull in progress, the
container list and the audit page as docs/screenshots/*.png (1280 px wide).

    python tests/lab.py run -- .venv/bin/python tests/screenshots.py
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.chromium import launch_chromium  # noqa: E402
from tests.console_process import ConsoleProcess  # noqa: E402
from tests.images_registries import SlowRegistry  # noqa: E402
from tests.lab import docker_at, free_port  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
WIDTH, HEIGHT = 1280, 820
MAX_BYTES = 300_000
PASSWORD = "screens-and-more-1"


def post(console: ConsoleProcess, session, path: str, **data: str) -> str:
    """Send a form as the browser would; the page it lands on."""
    response = session.post(f"{console.url}{path}", data=data, timeout=30)
    response.raise_for_status()
    return response.url


def make_user(console: ConsoleProcess, admin, username: str, role: str):
    post(console, admin, "/users/new/", username=username, password=PASSWORD, role=role)
    return console.session(username, PASSWORD)


def do_some_work(console: ConsoleProcess, otto) -> None:
    """What the tutorial does: pull httpd:2.2, run hello-world, run httpd:2.4 in the background; then `system df`."""
    job = post(console, otto, "/engines/local/images/pull/start/", reference="httpd:2.2")
    assert console.wait_job(otto, job) == "succeeded", job
    job = post(
        console,
        otto,
        "/engines/local/containers/run/",
        image="hello-world",
        name="hello",
        restart_policy="no",
        follow="on",
    )
    assert console.wait_job(otto, job) == "succeeded", job
    ports = f"127.0.0.1:{free_port()}:80"
    job = post(
        console, otto, "/engines/local/containers/run/", image="httpd:2.4", name="web", ports=ports, restart_policy="no"
    )
    assert console.wait_job(otto, job) == "succeeded", job
    job = post(console, otto, "/engines/local/system/disk/")  # disk use as it is now, after the pulls
    assert console.wait_job(otto, job) == "succeeded", job


def drift_apart() -> None:
    """The fleet as it drifts: httpd:2.4 is one image on local, another on tls (2.2 tagged 2.4), none on ssh."""
    registry = os.environ["LAB_REGISTRY"]
    tls = os.environ["LAB_TLS_SOCKET"]
    for args in (("pull", f"{registry}/library/httpd:2.2"), ("tag", f"{registry}/library/httpd:2.2", "httpd:2.4")):
        docker_at(tls, *args, timeout=120).check_returncode()
    docker_at(os.environ["LAB_SSH_SOCKET"], "pull", f"{registry}/library/hello-world", timeout=120).check_returncode()


def save(page, name: str) -> None:
    path = OUT / f"{name}.png"
    page.screenshot(path=path)
    size = path.stat().st_size
    print(f"{path.relative_to(OUT.parent.parent)}: {size // 1000} KB")
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size} bytes, more than {MAX_BYTES}")


def half_way(page) -> bool:
    """The pull's big layer is between a third and two thirds down."""
    progress = page.locator("#pull-layers progress")
    positions = [p for p in progress.evaluate_all("bars => bars.map(b => b.position)") if 0 < p < 1]
    return any(1 / 3 < p < 2 / 3 for p in positions)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    link = SlowRegistry(os.environ["LAB_REGISTRY"], rate=2_000_000)  # a pull slow enough to catch half-way
    os.environ["ALLOWED_REGISTRIES"] = link.host  # on 127.0.0.1 and not in the engine's configuration
    console = ConsoleProcess().start()
    # The lab's other two engines, as an Admin adds them on the Engines page (TLS certificates, an SSH key).
    console.manage("shell", "-c", "from tests.conftest import lab_engine_rows; lab_engine_rows()")
    try:
        admin = console.session()
        otto = make_user(console, admin, "otto", "Operator")
        make_user(console, admin, "vera", "Viewer")
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, base_url=console.url)
            context.set_default_timeout(30_000)
            page = context.new_page()
            page.goto("/accounts/login/")
            page.fill("#id_username", "otto")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/$"))

            page.goto("/engines/local/images/pull/")
            page.fill("input[name=reference]", f"{link.host}/library/httpd:2.2")
            page.click("button.primary")
            page.wait_for_url("**/jobs/*/")
            deadline = time.monotonic() + 60
            while not half_way(page) and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            save(page, "pull-progress")
            page.locator("#job-state").filter(has_text="succeeded").wait_for(timeout=120_000)

            do_some_work(console, otto)
            vera = console.session("vera", PASSWORD)
            vera.post(f"{console.url}/engines/local/containers/web/stop/", timeout=30)  # refused: she is a Viewer
            drift_apart()
            time.sleep(3)  # the watchers' listings follow the engines' events

            for name, path in [
                ("fleet", "/"),
                ("drift", "/drift/?ref=httpd:2.4"),
                ("dashboard", "/engines/local/"),
                ("containers", "/engines/local/containers/?all=1"),
                ("audit", "/audit/"),
            ]:
                page.goto(path)
                page.wait_for_load_state("networkidle")
                save(page, name)
            browser.close()
    finally:
        link.stop()
        console.stop()


if __name__ == "__main__":
    main()
