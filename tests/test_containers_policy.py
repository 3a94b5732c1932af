"""Issue #12: what reaches the host is decided once, on the request the engine would be sent. An Operator's run
that would reach the host is refused whatever the form was sent; so is an exec into a container that does."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlencode

import docker
import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from console import engine
from console.audit.models import AuditEvent
from console.containers.forms import ADMIN_FIELDS, RunForm
from console.jobs.models import Job
from console.jobs.runner import execute
from tests.engine_proxy import EngineProxy

pytestmark = pytest.mark.security

FORM_BODY = "application/x-www-form-urlencoded"


def containers_named(lab, name: str) -> list:
    return lab.client.containers.list(all=True, filters={"name": name})


# --- run: Privileged as the form turns it into ---------------------------------------------------

# What the form's checkbox makes of a value: anything but "" and "false" (any case) is True, even "0".
PRIVILEGED = [" ", "\t", "\u00a0", "\u2003", "on", "off", "0", "False "]
NOT_PRIVILEGED = ["false", "False", ""]


@pytest.mark.parametrize("value", PRIVILEGED, ids=repr)
def test_an_operators_privileged_run_is_refused_whatever_the_value_says(lab, operator_client, value):
    name = lab.name("priv")
    data = {"image": "hello-world", "name": name, "restart_policy": "no", "privileged": value}
    response = operator_client.post("/engines/local/containers/run/", data)
    assert response.status_code == 403
    assert "privileged mode" in response.content.decode()
    assert not Job.objects.exists() and containers_named(lab, name) == []
    event = AuditEvent.objects.get(action="container.run")
    assert event.outcome == "denied" and event.params["refused"] == ["privileged mode"]


@pytest.mark.parametrize("value", NOT_PRIVILEGED, ids=repr)
def test_a_value_the_form_reads_as_false_runs_unprivileged(operator_client, value):
    data = {"image": "hello-world", "restart_policy": "no", "privileged": value}
    assert operator_client.post("/engines/local/containers/run/", data).status_code == 302
    spec = Job.objects.get(kind="container.run").params["spec"]
    assert "Privileged" not in engine.run_config(spec)["HostConfig"]


def test_three_hundred_volume_lines_are_refused_before_the_engine_is_asked(operator_client):
    volumes = "\n".join(f"v{i}:/d{i}" for i in range(300))
    response = operator_client.post(
        "/engines/local/containers/run/", {"image": "hello-world", "restart_policy": "no", "volumes": volumes}
    )
    assert response.status_code == 400 and "At most 100 lines" in response.content.decode()
    huge = {"image": "hello-world", "restart_policy": "no", "environment": "A=" + "x" * 30_000}
    response = operator_client.post("/engines/local/containers/run/", huge)
    assert response.status_code == 400 and "at most 20000 characters" in response.content.decode()
    assert not Job.objects.exists()


def test_a_hundred_named_volumes_cost_the_engine_one_question(operator_client, settings):
    proxy = EngineProxy(os.environ["DOCKER_HOST"]).start()
    settings.DOCKER_HOST = proxy.address
    volumes = "\n".join(f"t-many-{i}:/d{i}" for i in range(100))
    try:
        data = {"image": "hello-world", "restart_policy": "no", "volumes": volumes}
        assert operator_client.post("/engines/local/containers/run/", data).status_code == 302
    finally:
        proxy.stop()
    assert [r.split("/", 2)[-1] for r in proxy.since(0) if "/volumes" in r] == ["volumes"], proxy.since(0)


# --- exec: the target container's own settings ---------------------------------------------------


@pytest.fixture
def host_dir(tmp_path):
    (tmp_path / "marker").write_text("from the host\n")
    return tmp_path


@pytest.fixture
def bind_volume():
    """A named volume whose driver options bind a host path: host-reaching, though no form field says bind."""
    client = docker.from_env()
    volume = client.volumes.create(
        f"t-hostvol-{uuid.uuid4().hex[:8]}", driver_opts={"type": "none", "o": "bind", "device": "/tmp"}
    )
    yield volume.name
    volume.remove(force=True)


def test_an_operator_cannot_exec_into_a_container_with_a_bind_mount(lab, host_dir, operator_client, admin_client):
    up = lab.httpd("bound", volumes={str(host_dir): {"bind": "/hostdir", "mode": "rw"}})
    for command in ("cat /hostdir/marker", "sh -c 'echo x > /hostdir/f'"):
        response = operator_client.post(f"/engines/local/containers/{up.id}/exec/", {"command": command})
        assert response.status_code == 403
        assert f"a bind mount of the host path {host_dir}" in response.content.decode()
    assert not Job.objects.exists() and not (host_dir / "f").exists()
    # The container's page offers the Operator no exec form, and says why.
    page = operator_client.get(f"/engines/local/containers/{up.id}/").content.decode()
    assert 'id="exec-refused"' in page and f"a bind mount of the host path {host_dir}" in page
    assert f"/engines/local/containers/{up.id}/exec/" not in page
    assert (
        f"/engines/local/containers/{up.id}/exec/"
        in admin_client.get(f"/engines/local/containers/{up.id}/").content.decode()
    )
    denied = AuditEvent.objects.filter(action="container.exec", outcome="denied")
    assert denied.count() == 2 and denied.first().params["refused"] == [f"a bind mount of the host path {host_dir}"]
    assert denied.first().target == up.name

    # An Admin may, and the reasons are recorded with the request.
    assert (
        admin_client.post(f"/engines/local/containers/{up.id}/exec/", {"command": "cat /hostdir/marker"}).status_code
        == 302
    )
    job = Job.objects.get(kind="container.exec")
    execute(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded" and "from the host" in job.output
    requested = AuditEvent.objects.get(action="container.exec", outcome="requested")
    assert requested.actor_name == "ada" and requested.params["dangerous"] == [
        f"a bind mount of the host path {host_dir}"
    ]


@pytest.mark.parametrize("how", ["pid_mode", "cap_add", "bind_volume", "volumes_from", "network_mode", "socket"])
def test_an_operator_cannot_exec_into_a_container_that_reaches_the_host_otherwise(
    bind_volume,  # first: removed after the containers using it
    lab,
    operator_client,
    host_dir,
    how,
):
    if how in ("volumes_from", "network_mode"):
        source = lab.httpd("source", volumes={str(host_dir): {"bind": "/hostdir", "mode": "ro"}})
    if how == "network_mode":  # sharing another container's network: no ports of its own, and not port 80 again
        up = lab.client.containers.run(
            "httpd:2.4", ["sleep", "600"], name=lab.name("netshare"), detach=True, network_mode=f"container:{source.id}"
        )
    else:
        up = lab.httpd(
            how,
            **{
                "pid_mode": {"pid_mode": "host"},
                "cap_add": {"cap_add": ["SYS_PTRACE"]},
                "bind_volume": {"volumes": {bind_volume: {"bind": "/data", "mode": "ro"}}},
                "volumes_from": {"volumes_from": [source.id]} if how == "volumes_from" else {},
                "socket": {"volumes": {"/run": {"bind": "/hostrun", "mode": "ro"}}},
            }[how],
        )
    response = operator_client.post(f"/engines/local/containers/{up.id}/exec/", {"command": "id"})
    assert response.status_code == 403
    assert not Job.objects.exists()
    event = AuditEvent.objects.get(action="container.exec")
    assert event.outcome == "denied" and event.params["refused"]
    if how == "socket":
        assert any("Docker socket" in reason for reason in event.params["refused"])


# --- the property: whatever an Operator sends, the engine's request reaches the host only if refused ----

FIELDS = list(RunForm.base_fields)
TRICKY = [
    " ", "\t", "\u00a0", "\u2003", "on", "off", "false", "False", "0", "1", "true", "",
    "host", "HOST", " host ", "Host", "container:web", "private", "shareable", "none", "bridge",
    "/:/h", "/var/run/docker.sock:/s", "/etc:/x:ro", "./rel:/x", "data:/data", "data:/data:ro",
    "type=bind,source=/,target=/h", "type=BIND,source=/,target=/h", "type=tmpfs,target=/t",
    "type=volume,source=v,target=/d,volume-opt=o=bind,volume-opt=device=/etc",
    "type=volume,source=v,target=/d,volume-driver=local", "type=volume,source=v,target=/d,volume-driver=evil",
    "SYS_ADMIN", "sys_admin", "cap_sys_admin", "/dev/mem", "/dev/null:/dev/x:r", "seccomp=unconfined",
    "no-new-privileges", "apparmor=unconfined", "net.ipv4.ip_forward=1", "8080:80", "0.0.0.0:8081:80",
    "hello-world", "httpd:2.4", "no", "always",
]  # fmt: skip
KEYS = st.one_of(
    st.sampled_from(FIELDS),
    st.sampled_from(ADMIN_FIELDS),
    st.sampled_from([f.upper() for f in FIELDS] + [f" {f}" for f in FIELDS] + ["Privileged", "HostConfig", "binds[]"]),
    st.text(max_size=12),
)


def values(volume: str):
    tricky = st.sampled_from([*TRICKY, f"{volume}:/d", f"type=volume,source={volume},target=/d"])
    mixed = st.tuples(tricky, st.sampled_from(["", " ", "\n", "\u00a0"]), tricky).map("".join)
    return st.one_of(tricky, tricky, mixed, st.text(max_size=40))


# docker run -it's terminal and open stdin (Tty, OpenStdin, AttachStdin) stay inside the container.
SAFE_CONFIG = {"Image", "Env", "ExposedPorts", "AttachStdout", "AttachStderr", "HostConfig", "Cmd"}
SAFE_CONFIG |= {"Tty", "OpenStdin", "AttachStdin"}
SAFE_HOST = {"RestartPolicy", "AutoRemove", "PortBindings", "Mounts", "NetworkMode", "IpcMode", "SecurityOpt"}


def reaches_host(config: dict, host_bound: set[str]) -> bool:
    """An allow-list, written apart from console.policy: anything not known to be harmless reaches the host."""
    host = config["HostConfig"]
    network = str(host.get("NetworkMode", "")).strip().lower()
    return bool(
        set(config) - SAFE_CONFIG
        or set(host) - SAFE_HOST
        or network == "host"
        or network.startswith("container:")
        or host.get("IpcMode", "private") not in ("private", "shareable", "none")
        or set(host.get("SecurityOpt") or []) - {"no-new-privileges"}
        or any(
            m.get("Type") not in ("volume", "tmpfs")
            or m.get("Source") in host_bound
            or (m.get("VolumeOptions") or {}).get("DriverConfig", {}).get("Options")
            or (m.get("VolumeOptions") or {}).get("DriverConfig", {}).get("Name", "local") != "local"
            for m in host.get("Mounts") or []
        )
    )


@settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
@example(data=None)  # the blank that started issue #12
def test_an_operators_run_request_reaches_the_host_only_when_refused(operator_client, bind_volume, data):
    if data is None:
        pairs = [("privileged", "\u00a0")]
    else:
        pairs = data.draw(st.lists(st.tuples(KEYS, values(bind_volume)), max_size=8), label="fields")
    body = urlencode([("image", "hello-world"), ("restart_policy", "no"), *pairs])
    before = set(Job.objects.values_list("pk", flat=True))
    response = operator_client.post("/engines/local/containers/run/", body, content_type=FORM_BODY)
    queued = Job.objects.exclude(pk__in=before)
    event(f"answered {response.status_code}")  # --hypothesis-show-statistics: refusals, runs and bad forms all occur
    form = RunForm(QueryDict(body))  # the view's own parsing, to know which request it built
    if any("\x00" in key + value for key, value in pairs) or not form.is_valid():  # NUL: refused before the form
        assert response.status_code == 400 and not queued.exists()
        return
    refused = reaches_host(engine.run_config(form.spec()), {bind_volume})
    assert response.status_code == (403 if refused else 302), (body, response.status_code)
    if refused:
        assert not queued.exists()
        assert AuditEvent.objects.filter(action="container.run").latest("id").outcome == "denied"
    else:
        assert queued.get().params["spec"] == form.spec()
