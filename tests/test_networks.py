"""Issue #16: networks as `docker network ls / inspect / create / rm / prune / connect / disconnect` do them,
through the console, checked with the docker CLI; what reaches the host is for Admins only."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from console.audit.models import AuditEvent

BASE = "/engines/local/networks/"


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The docker CLI on the lab engine, as a person in a shell would use it."""
    return subprocess.run(["docker", *args], env=os.environ, capture_output=True, text=True, check=check)


def inspect(name: str) -> dict | None:
    done = docker("network", "inspect", name, check=False)
    return json.loads(done.stdout)[0] if done.returncode == 0 else None


def subnet() -> str:
    return f"10.{uuid.uuid4().int % 200 + 20}.{uuid.uuid4().int % 250}.0/24"


@pytest.fixture
def networks():
    """Names of networks this test makes; whatever has them at the end is removed."""
    names: list[str] = []
    yield names
    for name in names:
        docker("network", "rm", name, check=False)


def fresh(networks: list[str], purpose: str = "net") -> str:
    name = f"t-{purpose}-{uuid.uuid4().hex[:8]}"
    networks.append(name)
    return name


def last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("id")


def test_it_lists_networks_with_driver_subnet_gateway_flags_and_the_containers_attached(lab, networks, viewer_client):
    name, net = fresh(networks), subnet()
    gateway = net.replace(".0/24", ".1")
    docker("network", "create", "--subnet", net, "--gateway", gateway, "--internal", "--attachable", name)
    web = lab.httpd("on-net", network=name)
    page = viewer_client.get(BASE).content.decode()
    row = page[page.index(f'id="network-{name}"') :].split("</tr>")[0]
    for shown in (name, "bridge", "local", net, gateway, web.name):
        assert shown in row, shown
    assert row.count("<td>yes</td>") == 2  # internal and attachable
    detail = viewer_client.get(f"{BASE}{name}/").content.decode()
    assert web.name in detail and inspect(name)["Id"] in detail


def test_an_operator_creates_a_bridge_network_with_subnet_gateway_internal_and_labels(networks, operator_client):
    name, net = fresh(networks), subnet()
    gateway = net.replace(".0/24", ".9")
    data = {"name": name, "subnet": net, "gateway": gateway, "internal": "on", "labels": "team=ops\ntier=db"}
    response = operator_client.post(f"{BASE}create/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    made = inspect(name)
    assert made["Driver"] == "bridge" and made["Internal"] is True
    assert made["IPAM"]["Config"] == [{"Subnet": net, "Gateway": gateway}]
    assert made["Labels"] == {"team": "ops", "tier": "db"}
    event = last("network.create")
    assert event.outcome == "succeeded" and event.target == name and event.target_id == made["Id"]


HOST_REACHING = [
    pytest.param({"driver": "macvlan", "options": "parent=eth0"}, "the network driver macvlan", id="macvlan"),
    pytest.param({"driver": "ipvlan"}, "the network driver ipvlan", id="ipvlan"),
    pytest.param({"options": "com.docker.network.bridge.name=eth0"}, "bridge.name=eth0", id="host-interface"),
    pytest.param({"options": "parent=lo"}, "parent=lo", id="parent"),
    pytest.param({"options": "com.docker.network.bridge.host_binding_ipv4=0.0.0.0"}, "host_binding", id="binding"),
]


@pytest.mark.parametrize(("fields", "reason"), HOST_REACHING)
def test_an_operator_is_refused_each_host_reaching_option_and_it_is_audited(networks, operator_client, fields, reason):
    name = fresh(networks)
    response = operator_client.post(f"{BASE}create/", {"name": name, **fields})
    assert response.status_code == 403
    assert inspect(name) is None
    event = last("network.create")
    assert event.outcome == "denied" and event.target == name
    assert any(reason in r for r in event.params["refused"]), event.params


def test_an_admin_may_name_a_host_interface_and_that_is_recorded(networks, admin_client):
    name = fresh(networks)
    bridge = f"tbr{uuid.uuid4().hex[:8]}"
    data = {"name": name, "driver": "bridge", "options": f"com.docker.network.bridge.name={bridge}"}
    assert admin_client.post(f"{BASE}create/", data).status_code == 302
    assert inspect(name)["Options"]["com.docker.network.bridge.name"] == bridge
    event = last("network.create")
    assert event.outcome == "succeeded" and event.params["dangerous"] == [
        f"network driver options com.docker.network.bridge.name={bridge}"
    ]


def test_connect_and_disconnect_a_container_with_an_alias_and_an_address(lab, networks, operator_client):
    name, net = fresh(networks), subnet()
    docker("network", "create", "--subnet", net, name)
    web = lab.httpd("connect")
    address = net.replace(".0/24", ".42")
    data = {"container": web.name, "aliases": "db cache", "ip": address}
    response = operator_client.post(f"{BASE}{name}/connect/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    joined = json.loads(docker("inspect", web.name).stdout)[0]["NetworkSettings"]["Networks"][name]
    assert joined["IPAddress"] == address and {"db", "cache"} <= set(joined["Aliases"])
    assert last("network.connect").outcome == "succeeded"

    assert operator_client.post(f"{BASE}{name}/disconnect/", {"container": web.name}).status_code == 302
    assert name not in json.loads(docker("inspect", web.name).stdout)[0]["NetworkSettings"]["Networks"]
    assert last("network.disconnect").outcome == "succeeded"


def test_removing_a_network_asks_first_and_the_engines_refusal_names_the_containers_attached(
    lab, networks, operator_client
):
    name = fresh(networks)
    docker("network", "create", name)
    web = lab.httpd("attached", network=name)
    asked = operator_client.post(f"{BASE}{name}/remove/")
    assert asked.status_code == 200 and f"Remove network {name}?" in asked.content.decode()
    assert web.name in asked.content.decode()
    assert inspect(name) is not None

    refused = operator_client.post(f"{BASE}{name}/remove/", {"confirm": "yes"}, follow=True)
    assert f"still attached: {web.name}" in refused.content.decode()
    assert inspect(name) is not None
    event = last("network.remove")
    assert event.outcome == "failed" and web.name in event.error

    web.remove(force=True)
    assert operator_client.post(f"{BASE}{name}/remove/", {"confirm": "yes"}).status_code == 302
    assert inspect(name) is None
    assert last("network.remove").outcome == "succeeded"


@pytest.mark.serial  # a prune removes every unused network on the engine
def test_prune_asks_with_the_unused_networks_then_says_what_it_removed(lab, networks, operator_client):
    unused, used = fresh(networks, "unused"), fresh(networks, "used")
    docker("network", "create", unused)
    docker("network", "create", used)
    lab.httpd("keeps", network=used)
    asked = operator_client.post(f"{BASE}prune/").content.decode()
    assert unused in asked and used not in asked
    done = operator_client.post(f"{BASE}prune/", {"confirm": "yes"}, follow=True).content.decode()
    said = done[done.index("Removed ") :].split("</")[0]
    assert "unused network" in said and unused in said and used not in said
    assert inspect(unused) is None and inspect(used) is not None
    assert unused in last("network.prune").params["removed"]


def test_an_operator_cannot_join_a_container_to_a_network_that_reaches_the_host(lab, networks, operator_client):
    name = fresh(networks)
    docker("network", "create", "-o", f"com.docker.network.bridge.name=tbr{uuid.uuid4().hex[:8]}", name)
    web = lab.httpd("join")
    response = operator_client.post(f"{BASE}{name}/connect/", {"container": web.name})
    assert response.status_code == 403
    assert name not in json.loads(docker("inspect", web.name).stdout)[0]["NetworkSettings"]["Networks"]
    event = last("network.connect")
    assert event.outcome == "denied" and "bridge.name" in event.params["refused"][0]

    run = {"image": "hello-world", "restart_policy": "no", "network_mode": name}
    assert operator_client.post("/engines/local/containers/run/", run).status_code == 403
    assert f"the network {name}, which reaches the host" in last("container.run").params["refused"][0]


def test_the_run_form_offers_the_networks_and_host_stays_for_admins(networks, operator_client):
    name = fresh(networks)
    docker("network", "create", name)
    page = operator_client.get("/engines/local/containers/run/").content.decode()
    assert f'<option value="{name}">' in page and '<option value="host">' not in page
    assert 'list="network-names"' in page
    response = operator_client.post(
        "/engines/local/containers/run/", {"image": "hello-world", "restart_policy": "no", "network_mode": "host"}
    )
    assert response.status_code == 403
    assert last("container.run").params["refused"] == ["the host's network namespace"]


def test_a_secret_in_a_networks_labels_is_shown_to_admins_only(networks, admin_client, viewer_client):
    name = fresh(networks)
    docker("network", "create", "--label", "db_password=hunter2", "--label", "team=ops", name)
    assert "hunter2" in admin_client.get(f"{BASE}{name}/").content.decode()
    page = viewer_client.get(f"{BASE}{name}/").content.decode()
    assert "hunter2" not in page and "team=ops" in page
