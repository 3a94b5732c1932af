"""Options that reach the host: refused to Operators (403, recorded, the engine never asked to create anything),
used by Admins (and recorded). Which they are is console/policy.py's to say, on the request built."""

import pytest

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import wait_until

CRAFTED = [
    {"privileged": "on"},
    {"binds": "/:/host"},
    {"mounts": "type=bind,source=/,target=/host"},
    {"mounts": "type=volume,source=sneaky,target=/d,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc"},
    {"network_mode": "host"},
    {"pid_mode": "host"},
    {"ipc_mode": "host"},
    {"uts_mode": "host"},
    {"cap_add": "SYS_ADMIN"},
    {"devices": "/dev/mem"},
    {"security_opt": "seccomp=unconfined"},
    {"sysctls": "net.ipv4.ip_forward=1"},
    {"volumes": "/etc:/host-etc"},  # a host path in the named-volumes field is a bind mount
]


def containers_named(lab, name: str) -> list:
    return lab.client.containers.list(all=True, filters={"name": name})


@pytest.mark.parametrize("fields", CRAFTED, ids=lambda f: "-".join(f"{k}={v}" for k, v in f.items())[:60])
def test_an_operator_sending_a_dangerous_option_is_refused_and_nothing_reaches_the_engine(lab, operator_client, fields):
    name = lab.name("danger")
    data = {"image": "hello-world", "name": name, "restart_policy": "no", "follow": "on", **fields}
    response = operator_client.post("/engines/local/containers/run/", data)
    assert response.status_code == 403
    page = response.content.decode()
    assert "Only Admins may use" in page and "Nothing was run" in page
    assert not Job.objects.exists()
    assert containers_named(lab, name) == []
    event = AuditEvent.objects.get(action="container.run")
    assert event.outcome == "denied" and event.actor_name == "otto" and event.target == "hello-world:latest"
    assert event.params["refused"]


def test_a_named_volume_whose_driver_options_bind_a_host_path_is_refused_to_operators(lab, operator_client):
    volume = lab.client.volumes.create(lab.name("bindvol"), driver_opts={"type": "none", "o": "bind", "device": "/tmp"})
    try:
        name = lab.name("viavolume")
        data = {"image": "hello-world", "name": name, "restart_policy": "no", "volumes": f"{volume.name}:/data"}
        response = operator_client.post("/engines/local/containers/run/", data)
        assert response.status_code == 403
        assert f"volume {volume.name}, which binds the host path /tmp" in response.content.decode()
        assert not Job.objects.exists() and containers_named(lab, name) == []
        assert AuditEvent.objects.get(action="container.run").outcome == "denied"
        # an ordinary named volume is fine for an Operator
        response = operator_client.post("/engines/local/containers/run/", {**data, "volumes": "plain-data:/data"})
        assert response.status_code == 302
    finally:
        volume.remove(force=True)


def finished(job: Job) -> Job:
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=120, message="the run to finish")
    job.refresh_from_db()
    return job


def test_an_admin_may_use_them_and_that_is_recorded(job_runner, lab, admin_client):
    name = lab.name("admin")
    data = {
        "image": "hello-world",
        "name": name,
        "restart_policy": "no",
        "follow": "on",
        "binds": "/tmp:/host-tmp:ro",
        "mounts": "type=bind,source=/etc,target=/host-etc,readonly",
        "cap_add": "NET_ADMIN",
        "security_opt": "no-new-privileges",
        "pid_mode": "host",
    }
    assert admin_client.post("/engines/local/containers/run/", data).status_code == 302
    job = finished(Job.objects.get())
    assert job.state == "succeeded", job.error
    assert "Hello from Docker!" in job.output
    host = lab.get(name).attrs["HostConfig"]
    assert host["Binds"] == ["/tmp:/host-tmp:ro"] and host["PidMode"] == "host"
    assert host["Mounts"] == [{"Type": "bind", "Source": "/etc", "Target": "/host-etc", "ReadOnly": True}]
    assert host["CapAdd"] == ["NET_ADMIN"] and "no-new-privileges" in host["SecurityOpt"]
    requested = AuditEvent.objects.get(job_id=job.pk, outcome="requested")
    assert requested.actor_name == "ada"
    assert requested.params["dangerous"] == [
        "the host's PID namespace",
        "added capabilities: NET_ADMIN",
        "a bind mount of the host path /tmp",
        "a bind mount of the host path /etc",
    ]  # no-new-privileges only takes power away
    assert requested.params["spec"]["cap_add"] == ["NET_ADMIN"]


def test_an_admin_may_ask_for_a_privileged_container(job_runner, lab, admin_client):
    name = lab.name("privileged")
    data = {"image": "hello-world", "name": name, "restart_policy": "no", "privileged": "on"}
    assert admin_client.post("/engines/local/containers/run/", data).status_code == 302
    job = finished(Job.objects.get())
    # The engine creates it as asked; whether the runtime may start it depends on the host (a sandbox may not).
    assert lab.get(name).attrs["HostConfig"]["Privileged"] is True
    assert job.state == "succeeded" or "operation not permitted" in job.error
    assert AuditEvent.objects.get(job_id=job.pk, outcome="requested").params["spec"]["privileged"] is True
