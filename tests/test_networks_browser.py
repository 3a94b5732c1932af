"""Issue #16 in real Chromium: an Operator creates a network, connects a container to it, and removes both."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.test_networks import docker, inspect


def test_an_operator_creates_a_network_connects_a_container_and_removes_both(browser_page, operator, lab):
    name = f"t-browser-{uuid.uuid4().hex[:8]}"
    web = lab.httpd("joins")
    page = browser_page
    sign_in(page, "otto")
    try:
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Networks").click()
        page.get_by_role("link", name="Create a network").click()
        page.fill("#id_name", name)
        page.fill("#id_subnet", "10.233.5.0/24")
        page.get_by_role("button", name="Create").click()
        expect(page.locator("h1")).to_have_text(f"Network {name}")
        expect(page.locator("#network-facts")).to_contain_text("10.233.5.0/24")

        page.fill("#id_container", web.name)
        page.fill("#id_aliases", "web")
        page.get_by_role("button", name="Connect").click()
        expect(page.locator("#network-endpoints")).to_contain_text(web.name)
        joined = json.loads(docker("inspect", web.name).stdout)[0]["NetworkSettings"]["Networks"]
        assert name in joined and "web" in joined[name]["Aliases"]

        # Remove the container from its page (force: it runs), then the network, each after its confirmation.
        page.get_by_role("link", name=web.name).click()
        page.get_by_label("force").check()
        page.get_by_role("button", name="Remove", exact=True).click()
        page.locator("#confirm-button").click()
        expect(page.locator("h1")).to_have_text("Containers")
        assert not lab.exists(web.name)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Networks").click()
        page.get_by_role("link", name=name).click()
        expect(page.locator("#network-endpoints")).to_contain_text("No container is attached.")
        page.locator("#network-remove").click()
        expect(page.locator("h1")).to_have_text(f"Remove network {name}?")
        page.locator("#confirm-button").click()
        expect(page.locator("h1")).to_have_text("Networks")
        assert inspect(name) is None
    finally:
        docker("network", "rm", name, check=False)
