"""Issue #16: volumes as `docker volume ls / inspect / create / rm / prune` do them, through the console, checked
with the docker CLI; options that bind a host path (or mount a device or share) are for Admins only."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from console.jobs.runner import enqueue, execute
from console.system.disk import KIND as DISK
from tests.test_networks import docker, last

BASE = "/engines/local/volumes/"


def inspect(name: str) -> dict | None:
    done = docker("volume", "inspect", name, check=False)
    return json.loads(done.stdout)[0] if done.returncode == 0 else None


@pytest.fixture
def volumes():
    names: list[str] = []
    yield names
    for name in names:
        docker("volume", "rm", "-f", name, check=False)


def fresh(volumes: list[str], purpose: str = "vol") -> str:
    name = f"t-{purpose}-{uuid.uuid4().hex[:8]}"
    volumes.append(name)
    return name


def holder(lab, volume: str, purpose: str):
    """A created (not started) container that mounts the volume."""
    lab.pull("httpd", "2.4")
    return lab.client.containers.create("httpd:2.4", name=lab.name(purpose), volumes={volume: {"bind": "/data"}})


def test_it_lists_volumes_with_driver_mountpoint_labels_users_and_size_with_its_age(lab, volumes, viewer_client):
    name = fresh(volumes)
    docker("volume", "create", "--label", "team=ops", name)
    user = holder(lab, name, "uses")
    write = ["sh", "-c", "head -c 300000 /dev/zero > /data/blob"]
    lab.client.containers.run("httpd:2.4", write, volumes={name: {"bind": "/data"}}, remove=True)
    before = viewer_client.get(BASE).content.decode()
    assert "Sizes: unknown until disk use is computed" in before
    execute(enqueue(None, DISK, "disk usage").pk)

    page = viewer_client.get(BASE).content.decode()
    row = page[page.index(f'id="volume-{name}"') :].split("</tr>")[0]
    mountpoint = inspect(name)["Mountpoint"]
    for shown in ("local", mountpoint, "team=ops", user.name, "300kB"):
        assert shown in row, (shown, row)
    assert re.search(r"Sizes as of less than a (second|minute) ago, when disk use was last computed", page)
    detail = viewer_client.get(f"{BASE}{name}/").content.decode()
    assert user.name in detail and mountpoint in detail and "300kB" in detail


def test_an_operator_creates_a_local_volume_with_labels_and_a_tmpfs(volumes, operator_client):
    name, tmp = fresh(volumes), fresh(volumes, "tmp")
    assert operator_client.post(f"{BASE}create/", {"name": name, "labels": "team=ops"}).status_code == 302
    assert inspect(name)["Driver"] == "local" and inspect(name)["Labels"] == {"team": "ops"}
    options = "type=tmpfs\ndevice=tmpfs\no=size=64m,mode=1777"
    assert operator_client.post(f"{BASE}create/", {"name": tmp, "options": options}).status_code == 302
    assert inspect(tmp)["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=64m,mode=1777"}
    event = last("volume.create")
    assert event.outcome == "succeeded" and event.target == tmp and event.params["dangerous"] == []


HOST_REACHING = [
    pytest.param({"options": "type=none\no=bind\ndevice=/etc"}, id="bind"),
    pytest.param({"options": "o=bind\ndevice=/"}, id="o-bind"),
    pytest.param({"options": "type=nfs\no=addr=127.0.0.1,rw\ndevice=:/export"}, id="nfs"),
    pytest.param({"options": "type=ext4\ndevice=/dev/sda1"}, id="device"),
    pytest.param({"options": "type=tmpfs\ndevice=tmpfs\no=size=1m,bind"}, id="tmpfs-bind"),
    pytest.param({"driver": "evil"}, id="driver"),
]


@pytest.mark.parametrize("fields", HOST_REACHING)
def test_an_operator_is_refused_each_host_reaching_option_and_that_is_audited(volumes, operator_client, fields):
    name = fresh(volumes)
    response = operator_client.post(f"{BASE}create/", {"name": name, **fields})
    assert response.status_code == 403
    assert inspect(name) is None
    event = last("volume.create")
    assert event.outcome == "denied" and event.target == name and event.params["refused"]


def test_an_admin_may_bind_a_host_path_and_that_is_recorded(volumes, admin_client, tmp_path):
    name = fresh(volumes)
    data = {"name": name, "options": f"type=none\no=bind\ndevice={tmp_path}"}
    assert admin_client.post(f"{BASE}create/", data).status_code == 302
    assert inspect(name)["Options"]["device"] == str(tmp_path)
    event = last("volume.create")
    assert event.outcome == "succeeded" and "device=" in event.params["dangerous"][0]
    assert "Reaches the host" in admin_client.get(f"{BASE}{name}/").content.decode()


def test_removing_a_volume_asks_first_and_says_what_uses_it(lab, volumes, operator_client):
    name = fresh(volumes)
    docker("volume", "create", name)
    user = holder(lab, name, "holds")
    asked = operator_client.post(f"{BASE}{name}/remove/").content.decode()
    assert f"Remove volume {name}?" in asked and user.name in asked and inspect(name) is not None

    refused = operator_client.post(f"{BASE}{name}/remove/", {"confirm": "yes"}, follow=True).content.decode()
    assert f"in use by {user.name}" in refused and inspect(name) is not None
    assert last("volume.remove").outcome == "failed"

    user.remove()
    assert operator_client.post(f"{BASE}{name}/remove/", {"confirm": "yes"}).status_code == 302
    assert inspect(name) is None and last("volume.remove").outcome == "succeeded"


@pytest.mark.serial  # a prune removes every unused volume on the engine
def test_prune_removes_unused_volumes_and_says_the_space_reclaimed(lab, volumes, operator_client):
    unused, used = fresh(volumes, "unused"), fresh(volumes, "used")
    docker("volume", "create", unused)
    docker("volume", "create", used)
    holder(lab, used, "keeps")
    asked = operator_client.post(f"{BASE}prune/", {"all": "1"}).content.decode()
    assert unused in asked and used not in asked and "Space to be freed" in asked
    done = operator_client.post(f"{BASE}prune/", {"all": "1", "confirm": "yes"}, follow=True).content.decode()
    assert unused in done and "Total reclaimed space" in done, re.findall(r"class=\"flash[^<]*", done)
    assert inspect(unused) is None and inspect(used) is not None
    event = last("volume.prune")
    assert event.outcome == "succeeded" and unused in event.params["removed"] and "reclaimed" in event.params


def test_a_run_judges_a_named_volume_as_its_create_was_judged(volumes, operator_client):
    tmp, share = fresh(volumes, "tmp"), fresh(volumes, "share")
    docker("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", tmp)
    docker("volume", "create", "-o", "type=nfs", "-o", "o=addr=127.0.0.1", "-o", "device=:/export", share)
    run = {"image": "hello-world", "restart_policy": "no"}
    assert operator_client.post("/engines/local/containers/run/", {**run, "volumes": f"{tmp}:/t"}).status_code == 302
    refused = operator_client.post("/engines/local/containers/run/", {**run, "volumes": f"{share}:/s"})
    assert refused.status_code == 403
    assert last("container.run").params["refused"] == [
        f"volume {share}, which reaches the host (volume driver options device=:/export, o=addr=127.0.0.1, type=nfs)"
    ]


def test_a_shares_password_in_its_options_is_shown_to_admins_only(volumes, admin_client, viewer_client):
    name = fresh(volumes)
    docker("volume", "create", "-o", "type=cifs", "-o", "o=username=ops,password=hunter2", "-o", "device=//h/s", name)
    assert "hunter2" in admin_client.get(f"{BASE}{name}/").content.decode()
    page = viewer_client.get(f"{BASE}{name}/").content.decode()
    assert "hunter2" not in page and "username=ops" in page
