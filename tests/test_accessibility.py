"""Accessibility (issue 20, item 13): axe-core, vendored from npm (tests/vendor), run in Chromium on every
main page in light and dark mode, with realistic content; no violation of impact serious or critical
(WCAG 2.1 A/AA and axe's best practices), and no empty table header."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.conftest import make_user, sign_in

AXE_VERSION = "4.14.1"
AXE = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BAD = ("serious", "critical")
# Rules kept at zero whatever axe calls their impact: an action column's header says what it holds.
ALWAYS = ("empty-table-header",)

# The schemes differ in colours only (console.css's dark block sets the colour properties): the light pass runs
# every rule of TAGS, the dark pass the rules that read colours.
PASSES = (
    ("light", {"type": "tag", "values": TAGS}),
    ("dark", {"type": "rule", "values": ["color-contrast", "link-in-text-block"]}),
)

# axe.run on the whole document; only what it reports as violations, in a shape that reads well.
RUN_AXE = """async (only) => {
  const result = await axe.run(document, {runOnly: only, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({impact: n.impact, target: n.target.join(' '), html: n.html.slice(0, 160),
                              summary: (n.failureSummary || '').split('\\n').slice(0, 3).join(' ')})),
  }));
}"""


def content(lab, admin):
    """What a team's console holds after a day: a running and an exited container, images, jobs of each
    state, audit events and users of each role. Returns the pages whose address depends on it."""
    from console.audit.record import record
    from console.jobs.models import Job

    web = lab.httpd("a11y")
    lab.hello("a11y")
    make_user("otto", "operator")
    make_user("vera", "viewer")
    now = timezone.now()
    pull = Job.objects.create(
        kind="image.pull",
        engine="local",
        target="httpd:2.4",
        requested_by=admin,
        requested_by_name="ada",
        state="succeeded",
        started=now - timedelta(seconds=9),
        finished=now - timedelta(seconds=2),
        progress={"current": 24_000_000, "total": 24_000_000},
        output="Pulling from library/httpd\nDigest: sha256:0123\nStatus: Downloaded newer image for httpd:2.4\n",
    )
    Job.objects.create(
        kind="image.pull",
        engine="local",
        target="nope:1",
        requested_by=admin,
        requested_by_name="ada",
        state="failed",
        started=now - timedelta(seconds=5),
        finished=now - timedelta(seconds=4),
        error="manifest for nope:1 not found",
    )
    Job.objects.create(kind="system.df", engine="local", target="disk usage", requested_by_name="otto")
    event = record(admin, "container.stop", web.name, "succeeded", target_id=web.id, engine="local", timeout=10)
    record("otto", "image.pull", "nope:1", "failed", engine="local", error="manifest for nope:1 not found")
    image = lab.client.images.get("httpd:2.4")
    return [
        f"/jobs/{pull.pk}/",
        f"/audit/{event.pk}/",
        f"/engines/local/containers/{web.name}/",
        f"/engines/local/images/{image.short_id.removeprefix('sha256:')}/",
    ]


PAGES = [
    "/",
    "/drift/",
    "/engines/",
    "/engines/new/",
    "/registries/",
    "/jobs/",
    "/audit/",
    "/users/",
    "/engines/local/",
    "/engines/local/images/",
    "/engines/local/images/pull/",
    "/engines/local/containers/",
    "/engines/local/containers/?all=1",
    "/engines/local/containers/run/",
    "/engines/local/system/",
    "/engines/local/networks/",
    "/engines/local/networks/create/",
    "/engines/local/networks/bridge/",
    "/engines/local/volumes/",
    "/engines/local/volumes/create/",
]


def readable(found: list[tuple[str, str, dict]]) -> str:
    lines = []
    for scheme, path, violation in found:
        lines.append(f"[{scheme}] {path}: {violation['id']} ({violation['impact']}) {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}  {node['html']}")
            if node["summary"]:
                lines.append(f"      {node['summary']}")
    return "\n".join(lines)


@pytest.mark.django_db(transaction=True)
def test_every_main_page_has_no_serious_or_critical_axe_violation_in_light_and_dark(
    chromium, live_server, settings, admin, lab, fleet
):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    pages = ["/accounts/login/", *PAGES, *content(lab, admin)]
    found: list[tuple[str, str, dict]] = []
    # One tab for both schemes: each page is loaded once and checked in light, then in dark. The console's
    # CSP (nonces) would refuse the injected axe script, so it is bypassed in this context only.
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url, bypass_csp=True)
    context.set_default_timeout(15_000)
    context.add_init_script(path=str(AXE))  # in every document the tab loads, before the page's own scripts
    page = context.new_page()
    try:
        for path in pages:
            if path != "/accounts/login/" and "/accounts/login/" in page.url:
                sign_in(page, "ada")
            page.goto(path)
            assert "/accounts/login/" not in page.url or path == "/accounts/login/", path
            if page.locator('[hx-trigger="load"]').count():  # parts that load after the page (container logs)
                page.wait_for_load_state("networkidle")
            for scheme, only in PASSES:
                page.emulate_media(color_scheme=scheme)
                violations = page.evaluate(RUN_AXE, only)
                found += [(scheme, path, v) for v in violations if v["impact"] in BAD or v["id"] in ALWAYS]
    finally:
        context.close()
    assert not found, f"{len(found)} axe violations (serious, critical, or an empty table header):\n" + readable(found)
