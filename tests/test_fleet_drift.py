"""Drift (`/drift/`): one image tag across the lab's engines (which hold it, as which image, which lack it),
and the engines whose version, registry mirrors or insecure registries differ from the rest."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from console import engine, snapshot
from console.dashboard.fleet import settings_drift
from console.engines.models import EngineRole
from tests.lab import ENGINES_FILE, docker_at, engine_start, engine_stop
from tests.test_fleet_page import NAMES, clear_snapshots, lab_socket


@pytest.fixture
def listed(fleet):
    """List what each lab engine holds into its snapshot (as its watcher would), now."""
    clear_snapshots()

    def refresh() -> None:
        for name in NAMES:
            engine.reset_client(name)  # a connection from before an engine restarted would fail once
            with engine.using(name):
                snapshot.refresh("images", "info")

    yield refresh
    clear_snapshots()


def docker(name: str, *args: str) -> str:
    done = docker_at(lab_socket(name), *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode().strip()


def image_id(name: str, reference: str) -> str:
    return docker(name, "image", "inspect", "--format", "{{.Id}}", reference).removeprefix("sha256:")[:12]


def holding(page: str, name: str) -> str:
    start = page.index(f'<tr id="holding-{name}"')
    return page[start : page.index("</tr>", start)]


@pytest.fixture
def drifted(registry):
    """<repo>:1 is hello-world on local and tls, httpd on ssh; <repo>:2 is hello-world on local, httpd on tls,
    and missing on ssh. The repository is the test's own: tests side by side on the shared engines each tag theirs."""
    hello, httpd = f"{registry}/library/hello-world:latest", f"{registry}/library/httpd:2.4"
    repo = f"drift-probe-{uuid.uuid4().hex[:8]}"
    made = {"local": [("1", hello), ("2", hello)], "tls": [("1", hello), ("2", httpd)], "ssh": [("1", httpd)]}
    for name, tags in made.items():
        for tag, source in tags:
            docker(name, "pull", source)
            docker(name, "tag", source, f"{repo}:{tag}")
    yield {"hello": image_id("local", hello), "httpd": image_id("ssh", httpd), "source": hello, "repo": repo}
    for name, tags in made.items():
        for tag, _ in tags:
            docker_at(lab_socket(name), "rmi", f"{repo}:{tag}")


def test_it_shows_the_engine_whose_image_differs_from_the_majority(drifted, listed, admin_client):
    listed()
    page = admin_client.get(reverse("drift"), {"ref": f"{drifted['repo']}:1"}).content.decode()
    assert "names 2 different images" in page and "Differs on ssh." in page
    for name in ("local", "tls"):
        row = holding(page, name)
        assert 'class="drift-same"' in row and drifted["hello"] in row
        digest = docker(name, "image", "inspect", "--format", "{{index .RepoDigests 0}}", drifted["source"])
        assert digest.rpartition("@")[2][:19] in row  # sha256: and 12 digits
    assert 'class="drift-differs"' in holding(page, "ssh") and drifted["httpd"] in holding(page, "ssh")
    assert "differs from the majority" in holding(page, "ssh")
    # The same reference spelled in full is the same reference.
    full = admin_client.get(reverse("drift"), {"ref": f"docker.io/library/{drifted['repo']}:1"}).content.decode()
    assert 'class="drift-differs"' in holding(full, "ssh")
    # The tag is listed among those that drift, and offered among the references present.
    repo = drifted["repo"]
    assert f'href="/drift/?ref={repo}%3A1"' in page and f'<option value="{repo}:2">' in page


def test_it_shows_an_engine_lacking_the_tag_and_no_majority_when_the_others_disagree(drifted, listed, admin_client):
    listed()
    page = admin_client.get(reverse("drift"), {"ref": f"{drifted['repo']}:2"}).content.decode()
    assert 'class="drift-lacking"' in holding(page, "ssh") and "Lacking on ssh." in page
    assert drifted["hello"] in holding(page, "local") and drifted["httpd"] in holding(page, "tls")
    # one against one: neither is the majority, both are marked
    assert 'class="drift-differs"' in holding(page, "local") and 'class="drift-differs"' in holding(page, "tls")


def test_a_tag_the_same_everywhere_is_not_drift(drifted, listed, admin_client, registry):
    listed()
    page = admin_client.get(reverse("drift"), {"ref": f"{registry}/library/hello-world:latest"}).content.decode()
    assert "is the same image wherever it is present" in page
    assert 'class="drift-same"' in holding(page, "local") and 'class="drift-lacking"' in holding(page, "ssh")
    assert f"{registry}/library/hello-world:latest</code>" not in page.split('id="drifting-tags"', 1)[1]


def test_it_shows_only_the_engines_the_user_can_see(drifted, listed, viewer, viewer_client, fleet):
    listed()
    EngineRole.objects.create(user=viewer, engine=fleet["ssh"], role="")
    page = viewer_client.get(reverse("drift"), {"ref": f"{drifted['repo']}:1"}).content.decode()
    assert 'id="holding-ssh"' not in page and "is the same image wherever it is present" in page


def test_a_reference_docker_would_refuse_says_why(listed, admin_client):
    listed()
    response = admin_client.get(reverse("drift"), {"ref": "Not A Reference"})
    assert response.status_code == 200 and 'id="drift-ref-error"' in response.content.decode()
    assert "contains a space" in response.content.decode()


def test_engines_with_the_same_settings_show_no_settings_drift(listed, admin_client):
    listed()
    page = admin_client.get(reverse("drift")).content.decode()
    assert 'id="settings-agree"' in page and "The 3 engines listed agree" in page
    assert 'id="settings-table"' not in page


def test_the_settings_comparison_names_the_engine_whose_version_differs(listed):
    """A pure helper on the lab's real `info`s; the lab runs one dockerd build, so one version is changed here."""
    listed()
    infos = {}
    for name in NAMES:
        with engine.using(name):
            infos[name] = snapshot.peek("info")[0]
    assert settings_drift(infos).differing() == {}
    infos["tls"] = {**infos["tls"], "ServerVersion": "99.0.0"}
    infos["gone"] = None  # never listed: not compared
    drift = settings_drift(infos)
    assert drift.differing() == {"Engine version": ["tls"]} and drift.compared == 3


@pytest.mark.fault
@pytest.mark.serial  # restarts one of the lab's engines with other settings
def test_an_engine_started_with_another_mirror_and_insecure_registry_is_shown_as_differing(
    listed, admin_client, tmp_path
):
    state = json.loads((Path(os.environ["LAB_ROOT"]) / ENGINES_FILE).read_text())
    state["ssh"]["argv"] += ["--registry-mirror", "http://127.0.0.1:9", "--insecure-registry", "127.0.0.1:9"]
    (tmp_path / ENGINES_FILE).write_text(json.dumps(state))
    engine_stop("ssh")
    try:
        engine_start("ssh", root=tmp_path)
        listed()
        page = admin_client.get(reverse("drift")).content.decode()
    finally:
        engine_stop("ssh")
        engine_start("ssh")
    differing = page.split('id="settings-differing"', 1)[1].split("</ul>", 1)[0]
    assert "<strong>Registry mirrors</strong> differs on ssh" in differing
    assert "<strong>Insecure registries</strong> differs on ssh" in differing
    assert "Engine version" not in differing
    ssh = page.split('<tr id="settings-ssh">', 1)[1].split("</tr>", 1)[0]
    assert "http://127.0.0.1:9" in ssh and ssh.count('class="differs"') == 2
    local = page.split('<tr id="settings-local">', 1)[1].split("</tr>", 1)[0]
    assert 'class="differs"' not in local and "http://127.0.0.1:9" not in local
