"""Issue #16: the property of issue #12, for the network and volume forms: whatever an Operator sends, a network or
volume that reaches the host is never made for them, and anything else is made exactly as the form said."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from console.audit.models import AuditEvent
from console.networks.forms import NetworkForm
from console.volumes.forms import VolumeForm
from tests.test_networks import docker
from tests.test_networks import inspect as inspect_network
from tests.test_volumes import inspect as inspect_volume

pytestmark = pytest.mark.security

FORM_BODY = "application/x-www-form-urlencoded"
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SEPARATORS = st.sampled_from(["", " ", "\n", "\u00a0", "="])


def drawn(data, fields: list[str], tricky: list[str]) -> list[tuple[str, str]]:
    keys = st.one_of(
        st.sampled_from(fields),
        st.sampled_from(fields),
        st.sampled_from(fields),
        st.sampled_from([f.upper() for f in fields] + [f" {f}" for f in fields] + ["Driver", "Options", "o"]),
        st.text(max_size=8),
    ).filter(lambda key: key != "name")
    values = st.one_of(
        st.sampled_from(tricky),
        st.tuples(st.sampled_from(tricky), SEPARATORS, st.sampled_from(tricky)).map("".join),
        st.lists(st.sampled_from(tricky), max_size=3).map("\n".join),
        st.text(max_size=30),
    )
    return data.draw(st.lists(st.tuples(keys, values), max_size=6), label="fields")


# --- networks --------------------------------------------------------------------------------------------

NETWORK_TRICKY = [
    "bridge", "macvlan", "ipvlan", "overlay", "host", "null", "BRIDGE", " bridge", "", " ", "on", "off", "0",
    "parent=eth0", "parent=lo", "com.docker.network.bridge.name=eth0", "com.docker.network.bridge.name=tbrprop",
    "com.docker.network.driver.mtu=1400", "com.docker.network.bridge.enable_icc=false",
    "com.docker.network.bridge.enable_ip_masquerade=false", "com.docker.network.bridge.host_binding_ipv4=0.0.0.0",
    "com.docker.network.bridge.gateway_mode_ipv4=routed", "ipvlan_mode=l2", "macvlan_mode=bridge",
    "10.231.7.0/24", "10.231.7.1", "10.231.8.1", "fd00:1::/64", "team=ops", "a=b\nc=d",
]  # fmt: skip
HARMLESS_BRIDGE = {
    "com.docker.network.driver.mtu",
    "com.docker.network.bridge.enable_icc",
    "com.docker.network.bridge.enable_ip_masquerade",
}


def network_reaches_host(form: NetworkForm) -> bool:
    """Written apart from console.policy, on what the form read: only a bridge with harmless options is safe."""
    data = form.cleaned_data
    return (data["driver"] or "bridge") != "bridge" or bool(set(data["options"]) - HARMLESS_BRIDGE)


@PROPERTY
@given(data=st.data())
def test_an_operators_network_reaches_the_host_only_when_refused(operator_client, data):
    name = f"t-prop-{uuid.uuid4().hex[:8]}"
    pairs = drawn(data, [f for f in NetworkForm.base_fields if f != "name"], NETWORK_TRICKY)
    body = urlencode([("name", name), *pairs])
    try:
        response = operator_client.post("/engines/local/networks/create/", body, content_type=FORM_BODY)
        event(f"answered {response.status_code}")
        made = inspect_network(name)
        form = NetworkForm(QueryDict(body))
        if any("\x00" in key + value for key, value in pairs) or not form.is_valid():
            assert response.status_code == 400 and made is None
            return
        if network_reaches_host(form):
            assert response.status_code == 403 and made is None, body
            assert AuditEvent.objects.filter(action="network.create").latest("id").outcome == "denied"
        elif response.status_code == 302:
            assert made["Driver"] == "bridge" and made["Options"] == form.cleaned_data["options"]
            assert made["Internal"] == form.cleaned_data["internal"]
        else:  # the engine refused it (an address pool in use, an option's value): nothing was made
            assert response.status_code == 400 and made is None, (body, response.status_code)
            assert AuditEvent.objects.filter(action="network.create").latest("id").outcome == "failed"
    finally:
        docker("network", "rm", name, check=False)


# --- volumes --------------------------------------------------------------------------------------------

VOLUME_TRICKY = [
    "local", "evil", "LOCAL", " local", "", " ", "type=tmpfs", "device=tmpfs", "o=size=1m", "o=size=1m,mode=1777",
    "type=none", "o=bind", "o=rbind", "o=size=1m,bind", "device=/etc", "device=/", "device=/dev/sda1", "type=nfs",
    "o=addr=127.0.0.1,rw", "device=:/export", "type=ext4", "type=cifs", "o=uid=1000", "o=", "team=ops", "size=1g",
]  # fmt: skip
TMPFS_WORDS = {"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks"}


def volume_reaches_host(form: VolumeForm) -> bool:
    """Written apart from console.policy: only the local driver with no options or a tmpfs's is safe."""
    data = form.cleaned_data
    for key, value in data["options"].items():
        if key == "o":
            if any(word.partition("=")[0] not in TMPFS_WORDS for word in value.split(",")):
                return True
        elif (key, value) not in {("type", "tmpfs"), ("device", "tmpfs")}:
            return True
    return data["driver"] != "local"


@PROPERTY
@given(data=st.data())
def test_an_operators_volume_reaches_the_host_only_when_refused(operator_client, data):
    name = f"t-prop-{uuid.uuid4().hex[:8]}"
    pairs = drawn(data, [f for f in VolumeForm.base_fields if f != "name"], VOLUME_TRICKY)
    body = urlencode([("name", name), *pairs])
    try:
        response = operator_client.post("/engines/local/volumes/create/", body, content_type=FORM_BODY)
        event(f"answered {response.status_code}")
        made = inspect_volume(name)
        form = VolumeForm(QueryDict(body))
        if any("\x00" in key + value for key, value in pairs) or not form.is_valid():
            assert response.status_code == 400 and made is None
            return
        if volume_reaches_host(form):
            assert response.status_code == 403 and made is None, body
            assert AuditEvent.objects.filter(action="volume.create").latest("id").outcome == "denied"
        elif response.status_code == 302:
            assert made["Driver"] == "local" and (made["Options"] or {}) == form.cleaned_data["options"]
        else:
            assert response.status_code == 400 and made is None, (body, response.status_code)
    finally:
        docker("volume", "rm", "-f", name, check=False)
