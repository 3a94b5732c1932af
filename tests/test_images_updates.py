"""Image updates: the update check finds newer content under a tag on its registry, and Update recreates a
container on it with every setting kept, or puts the old one back when the new one fails."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import re
import shutil
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import docker
import docker.errors
import pytest
from django.urls import reverse

from console import snapshot
from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import wait_until
from tests.images_registries import AuthRegistry
from tests.lab import BUSYBOX, docker_at

pytest_plugins = ["tests.watcher_process"]
# A check covers every tag on the engine, tests beside these included; its results are the engine's one entry
# in the snapshot, which each xdist process has in a Redis database of its own.
SECOND = 1_000_000_000
CREDENTIAL = "upd-Secret-81"


@pytest.fixture(autouse=True)
def _no_other_check():
    """No check but this test's: before it, and after it (other pages' tests count what they show)."""
    snapshot.connection().delete(snapshot.key("updates"))
    yield
    snapshot.connection().delete(snapshot.key("updates"))


def build(tag: str, version: str, cmd: list[str]) -> str:
    """An image made offline: busybox, a version file, a volume, and `cmd`; its id."""
    with tempfile.TemporaryDirectory() as ctx:
        shutil.copy(BUSYBOX, Path(ctx) / "busybox")
        (Path(ctx) / "version.txt").write_text(version)
        (Path(ctx) / "Dockerfile").write_text(
            "FROM scratch\nCOPY busybox /bin/busybox\n"
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            "COPY version.txt /version.txt\nENV FROM_IMAGE=1\nLABEL made.by=tests\nVOLUME /cache\n"
            f"CMD {json.dumps(cmd)}\n"
        )
        image, _ = docker.from_env().images.build(path=ctx, tag=tag, rm=True)
    return image.id


def push(tag: str, auth: dict | None = None) -> None:
    repository, _, name = tag.rpartition(":")
    for message in docker.from_env().api.push(repository, tag=name, stream=True, decode=True, auth_config=auth):
        assert "error" not in message, message


def pushed_twice(registry: str, second_cmd: list[str]) -> tuple[str, str, str]:
    """A tag pushed with a first image (the one the engine keeps under it), then with new content (which the
    engine does not have): as when someone else pushes a new build."""
    client = docker.from_env()
    tag = f"{registry}/updates/app{uuid.uuid4().hex[:8]}:1"
    first = build(tag, "1", ["sleep", "3600"])
    push(tag)
    second = build(tag, "2", second_cmd)
    push(tag)
    client.api.tag(first, tag)  # the engine's tag names the first image again
    client.api.remove_image(second, force=True)
    return tag, first, second


def run_job(client, name: str, args: list, data: dict) -> Job:
    response = client.post(reverse(name, args=args), {**data, "confirm": "yes"})
    assert response.status_code == 302, response.content.decode()
    job = Job.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=120, message=f"job {job.pk}")
    job.refresh_from_db()
    return job


def check(client) -> Job:
    job = run_job(client, "image_update_check", ["local"], {})
    assert job.state == "succeeded", job.error
    return job


@pytest.fixture
def made():
    """Containers, networks and volumes a test makes, removed after it."""
    things: list = []
    yield things
    client = docker.from_env()
    for kind, name in reversed(things):
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            if kind == "container":
                for c in client.api.containers(all=True, filters={"name": name}):
                    client.api.remove_container(c["Id"], force=True, v=True)
            elif kind == "network":
                client.api.remove_network(name)
            else:
                client.api.remove_volume(name, force=True)


def run_with_everything(made, tag: str) -> str:
    """A container with a setting of every kind away from its default; its name."""
    api = docker.from_env().api
    suffix = uuid.uuid4().hex[:8]
    name, front, back, data = f"t-upd-{suffix}", f"t-front-{suffix}", f"t-back-{suffix}", f"t-data-{suffix}"
    made += [("container", name), ("network", front), ("network", back), ("volume", data)]
    api.create_network(front)
    api.create_network(back)
    api.create_volume(data)
    host = api.create_host_config(
        port_bindings={8080: ("127.0.0.1", None)},
        binds=[f"{data}:/data:rw"],
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 4},
        mem_limit="64m",
        cpu_shares=512,
        pids_limit=99,
        network_mode=front,
    )
    created = api.create_container(
        tag,
        name=name,
        entrypoint=["/bin/sh", "-c"],
        command=["echo up > /data/up; echo kept > /cache/kept; exec sleep 3600"],
        environment=["MODE=blue", "EMPTY="],
        ports=[8080],
        labels={"team": "blue"},
        healthcheck={"test": ["CMD", "test", "-f", "/data/up"], "interval": SECOND, "retries": 5},
        hostname="apphost",
        working_dir="/data",
        host_config=host,
        networking_config=api.create_networking_config({front: api.create_endpoint_config(aliases=["web"])}),
    )
    api.connect_container_to_network(created["Id"], back, aliases=["app-back"])
    api.start(created["Id"])
    wait_until(lambda: api.inspect_container(name)["State"]["Health"]["Status"] == "healthy", message="healthy")
    return name


SETTINGS = {
    "entrypoint": lambda c: c["Config"]["Entrypoint"],
    "command": lambda c: c["Config"]["Cmd"],
    "env": lambda c: sorted(c["Config"]["Env"]),
    "labels": lambda c: c["Config"]["Labels"],
    "healthcheck": lambda c: c["Config"]["Healthcheck"],
    "hostname": lambda c: c["Config"]["Hostname"],
    "working dir": lambda c: c["Config"]["WorkingDir"],
    "exposed ports": lambda c: c["Config"]["ExposedPorts"],
    "port bindings": lambda c: {p: [b["HostIp"] for b in bs] for p, bs in c["HostConfig"]["PortBindings"].items()},
    "binds": lambda c: c["HostConfig"]["Binds"],
    "mounts": lambda c: sorted((m["Type"], m.get("Name"), m["Destination"], m["RW"]) for m in c["Mounts"]),
    "restart policy": lambda c: c["HostConfig"]["RestartPolicy"],
    "memory": lambda c: c["HostConfig"]["Memory"],
    "cpu shares": lambda c: c["HostConfig"]["CpuShares"],
    "pids limit": lambda c: c["HostConfig"]["PidsLimit"],
    "network mode": lambda c: c["HostConfig"]["NetworkMode"],
    "networks and aliases": lambda c: {
        net: sorted(a for a in end["Aliases"] or [] if a != c["Id"][:12])
        for net, end in c["NetworkSettings"]["Networks"].items()
    },
}


def test_it_finds_an_update_and_recreates_the_container_on_it_with_every_setting(
    job_runner, operator_client, registry, made
):
    tag, first, second = pushed_twice(registry, ["sleep", "3600"])
    name = run_with_everything(made, tag)
    api = docker.from_env().api
    before = api.inspect_container(name)

    found = check(operator_client)
    assert f"{tag}: update available" in found.output
    images = operator_client.get(reverse("image_list", args=["local"])).content.decode()
    assert "update available" in images and "Updates last checked" in images
    containers = operator_client.get(reverse("container_list", args=["local"])).content.decode()
    assert f'{tag} <span class="badge update-available">update available</span>' in containers
    asked = operator_client.post(reverse("container_update", args=["local", name]))
    assert asked.status_code == 200 and "found newer content under this tag" in asked.content.decode()

    job = run_job(operator_client, "container_update", ["local", name], {})
    assert job.state == "succeeded", job.error + job.output
    page = operator_client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert 'id="pull-layers"' in page and f"{name}: updated; {name}-old-{before['Id'][:12]} removed." in page
    after = api.inspect_container(name)
    assert after["Id"] != before["Id"] and after["Image"] != first
    assert api.inspect_image(tag)["Id"] == after["Image"]
    assert after["State"]["Running"] and after["State"]["Health"]["Status"] == "healthy"
    for setting, read in SETTINGS.items():
        assert read(after) == read(before), setting
    assert {"web", "app-back"} <= {a for e in after["NetworkSettings"]["Networks"].values() for a in e["Aliases"]}
    # The named and the anonymous volume are the old container's: their files are there.
    assert api.exec_start(api.exec_create(name, ["cat", "/data/up", "/cache/kept", "/version.txt"])) == b"up\nkept\n2"
    assert not api.containers(all=True, filters={"name": f"{name}-old-"})
    outcome = AuditEvent.objects.get(action="container.update", outcome="succeeded")
    assert outcome.params["old_image"] == first and outcome.params["new_image"] == after["Image"]
    assert outcome.target == name and outcome.target_id == after["Id"]
    # The update is applied: the next check finds the tag up to date.
    assert f"{tag}: up to date" in check(operator_client).output


def test_a_new_image_that_exits_at_once_is_rolled_back(job_runner, operator_client, registry, made):
    tag, first, _ = pushed_twice(registry, ["false"])
    api = docker.from_env().api
    name = f"t-upd-{uuid.uuid4().hex[:8]}"
    made.append(("container", name))
    old = api.create_container(tag, name=name, environment=["MODE=green"])["Id"]
    api.start(old)

    job = run_job(operator_client, "image_update", ["local"], {"image": tag})
    assert job.state == "failed"
    assert f"{name} was not updated: The new container is exited (exit code 1)." in job.error
    assert "The old container is back, under its name." in job.error
    back = api.inspect_container(name)
    assert back["Id"] == old and back["Image"] == first and back["State"]["Running"]
    assert [c["Names"] for c in api.containers(all=True, filters={"name": name})] == [[f"/{name}"]]
    outcome = AuditEvent.objects.get(action="container.update", outcome="failed")
    assert [(r["name"], r["old_image"]) for r in outcome.params["rolled_back"]] == [(name, first)]
    assert outcome.params["rolled_back"][0]["new_image"] == outcome.params["new_image"] != first


def test_an_unreachable_registry_shows_its_error_and_the_others_are_checked(
    job_runner, operator_client, admin_client, registry, made, tmp_path, settings
):
    private = AuthRegistry(tmp_path, "alice", CREDENTIAL)
    try:
        settings.ALLOWED_REGISTRIES = [private.host]
        auth = {"username": "alice", "password": CREDENTIAL}
        private_tag = f"{private.host}/team/app{uuid.uuid4().hex[:6]}:1"
        build(private_tag, "p", ["sleep", "3600"])
        push(private_tag, auth)
        admin_client.post(reverse("registry_save"), {"host": private.host, "username": "alice", "secret": CREDENTIAL})
        # With the stored credentials the private registry answers.
        assert f"{private_tag}: up to date" in check(operator_client).output
        private.stop()
        tag, _, _ = pushed_twice(registry, ["sleep", "3600"])

        job = check(operator_client)
        assert f"{tag}: update available" in job.output
        errors = snapshot.updates()["registries"][private.host]["error"]
        assert "connection refused" in errors.lower()
        page = operator_client.get(reverse("image_list", args=["local"])).content.decode()
        assert private.host in page and "connection refused" in page.lower()
        fleet = operator_client.get(reverse("fleet")).content.decode()
        assert "fleet-updates" in fleet
    finally:
        with contextlib.suppress(Exception):
            private.stop()
        with contextlib.suppress(docker.errors.APIError):
            docker.from_env().api.remove_image(private_tag, force=True)


def test_an_operator_may_not_update_a_container_that_reaches_the_host(
    operator_client, admin_client, registry, made, tmp_path
):
    tag, _, _ = pushed_twice(registry, ["sleep", "3600"])
    api = docker.from_env().api
    name = f"t-upd-{uuid.uuid4().hex[:8]}"
    made.append(("container", name))
    api.create_container(tag, name=name, host_config=api.create_host_config(binds=[f"{tmp_path}:/host"]))
    refused = operator_client.post(reverse("container_update", args=["local", name]), {"confirm": "yes"})
    assert refused.status_code == 403
    denied = AuditEvent.objects.get(action="container.update", outcome="denied")
    assert f"a bind mount of the host path {tmp_path}" in str(denied.params["refused"])
    assert not Job.objects.filter(kind="container.update").exists()
    asked = admin_client.post(reverse("container_update", args=["local", name]))
    assert asked.status_code == 200 and f"Update {name}?" in asked.content.decode()


class LimitingRegistry:
    """The lab registry behind a proxy that, once told to, answers every manifest request with 429; and adds
    `said` to every answer it passes on (the headers a registry tells its quota in). With a `login`, it answers
    401 with a Bearer challenge unless asked with the token its /token endpoint gives for that Basic login."""

    def __init__(self, upstream: str, said: dict[str, str] | None = None, login: str = ""):
        self.upstream, self.limiting, self.said, self.login = upstream, False, said or {}, login
        self.token = uuid.uuid4().hex
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self._forward(body=False)

            def do_GET(self):
                self._forward(body=True)

            def _answer(self, status: int, headers: dict[str, str], data: bytes = b""):
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(data))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _forward(self, body: bool):
                if proxy.login and self.path.startswith("/token"):
                    if self.headers.get("Authorization") != f"Basic {base64.b64encode(proxy.login.encode()).decode()}":
                        return self._answer(401, {})
                    token = json.dumps({"token": proxy.token}).encode()
                    return self._answer(200, {"Content-Type": "application/json"}, token)
                if proxy.login and self.headers.get("Authorization") != f"Bearer {proxy.token}":
                    realm = f'Bearer realm="http://{proxy.host}/token",service="proxy"'
                    return self._answer(401, {"WWW-Authenticate": realm})
                if proxy.limiting and "/manifests/" in self.path:
                    self.send_response(429)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=30)
                upstream.putrequest(self.command, self.path, skip_accept_encoding=True)
                for key, value in self.headers.items():  # every Accept header: they pick the manifest type
                    if key.lower() not in ("host", "connection"):
                        upstream.putheader(key, value)
                upstream.endheaders()
                response = upstream.getresponse()
                data = response.read() if body else b""
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding"):
                        self.send_header(key, value)
                for key, value in proxy.said.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

        return Handler

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_registry_that_rate_limits_is_left_alone_for_a_while(job_runner, operator_client, registry, settings):
    proxy = LimitingRegistry(registry)
    settings.ALLOWED_REGISTRIES = [proxy.host]
    repository = f"updates/limited{uuid.uuid4().hex[:6]}"
    tag = f"{proxy.host}/{repository}:1"
    try:
        build(f"{registry}/{repository}:1", "1", ["sleep", "3600"])
        push(f"{registry}/{repository}:1")
        docker.from_env().api.pull(f"{proxy.host}/{repository}", tag="1")  # the engine knows it by the proxy's name
        assert f"{tag}: up to date" in check(operator_client).output
        proxy.limiting = True

        limited = check(operator_client)
        row = snapshot.updates()["registries"][proxy.host]
        assert f"Rate-limited by {proxy.host}: not asked again for 15 minutes." in row["error"]
        assert f"{tag}: up to date" in limited.output  # the last answer is kept meanwhile
        page = operator_client.get(reverse("image_list", args=["local"])).content.decode()
        assert f"Rate-limited by {proxy.host}" in page

        proxy.limiting = False  # it would answer now, but is not asked until the time is up
        assert f"{proxy.host}: rate-limited; left alone until" in check(operator_client).output
    finally:
        proxy.stop()
        with contextlib.suppress(docker.errors.APIError):
            docker.from_env().api.remove_image(tag, force=True)


def test_the_images_page_shows_the_pulls_a_registry_says_are_left(job_runner, operator_client, registry, settings):
    quota = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600"}
    proxy = LimitingRegistry(registry, quota)
    settings.ALLOWED_REGISTRIES = [proxy.host]
    repository = f"updates/quota{uuid.uuid4().hex[:6]}"
    tag = f"{proxy.host}/{repository}:1"
    try:
        build(f"{registry}/{repository}:1", "1", ["sleep", "3600"])
        push(f"{registry}/{repository}:1")
        docker.from_env().api.pull(f"{proxy.host}/{repository}", tag="1")
        assert f"{tag}: up to date" in check(operator_client).output
        page = operator_client.get(reverse("image_list", args=["local"])).content.decode()
        assert f"<strong>{proxy.host}</strong>: 76 of 100 pulls left (per 6 h)" in page

        proxy.said = {}  # a registry that does not say: nothing about a quota
        assert f"{tag}: up to date" in check(operator_client).output
        page = operator_client.get(reverse("image_list", args=["local"])).content.decode()
        assert "pulls left" not in page and "update-quotas" not in page
    finally:
        proxy.stop()
        with contextlib.suppress(docker.errors.APIError):
            docker.from_env().api.remove_image(tag, force=True)


def test_the_quota_is_asked_with_the_stored_credentials_and_a_bearer_token(
    job_runner, operator_client, admin_client, registry, settings
):
    quota = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600"}
    proxy = LimitingRegistry(registry, quota)
    settings.ALLOWED_REGISTRIES = [proxy.host]
    repository = f"updates/bearer{uuid.uuid4().hex[:6]}"
    tag = f"{proxy.host}/{repository}:1"
    try:
        build(f"{registry}/{repository}:1", "1", ["sleep", "3600"])
        push(f"{registry}/{repository}:1")
        docker.from_env().api.pull(f"{proxy.host}/{repository}", tag="1")
        proxy.login = f"alice:{CREDENTIAL}"  # from now on only a token for alice's login gets an answer
        admin_client.post(reverse("registry_save"), {"host": proxy.host, "username": "alice", "secret": CREDENTIAL})
        check(operator_client)
        page = operator_client.get(reverse("image_list", args=["local"])).content.decode()
        assert f"<strong>{proxy.host}</strong>: 76 of 100 pulls left (per 6 h)" in page
    finally:
        proxy.stop()
        with contextlib.suppress(docker.errors.APIError):
            docker.from_env().api.remove_image(tag, force=True)


@pytest.mark.worker
def test_the_watcher_has_each_engine_checked_on_a_timer(worker, start_watcher, viewer_client):
    assert "Updates not checked yet." in viewer_client.get(reverse("image_list", args=["local"])).content.decode()
    start_watcher(UPDATE_CHECK_INTERVAL="3600").wait_following()
    job = wait_until(lambda: Job.objects.filter(kind="image.update_check").first(), message="the timer's check")
    assert job.requested_by_name == "console" and job.engine == "local"
    wait_until(lambda: Job.objects.get(pk=job.pk).state == "succeeded", timeout=120, message="the check to succeed")
    page = viewer_client.get(reverse("image_list", args=["local"])).content.decode()
    status = re.search(r'<p class="muted" id="update-status">.*?</p>', page, re.S).group(0)
    assert re.search(r'Updates last checked <span title="[^"]+">less than a \w+ ago</span>', status), status
    assert Job.objects.filter(kind="image.update_check").count() == 1  # not again before UPDATE_CHECK_INTERVAL


def test_the_request_keeps_what_the_container_set_and_leaves_the_rest_to_the_new_image():
    from console.engine import recreate_request

    image = {"Env": ["PATH=/bin", "A=1"], "Labels": {"made.by": "tests"}, "Cmd": ["serve"], "Volumes": {"/v": {}}}
    old = {
        "Id": "0123456789abcdef",
        "Name": "/web",
        "Config": {
            "Hostname": "myhost",
            "Env": ["PATH=/bin", "A=1", "B=2"],
            "Labels": {"made.by": "tests", "team": "x"},
            "Cmd": ["serve"],
            "Volumes": {"/v": {}},
        },
        "HostConfig": {"NetworkMode": "host", "Memory": 1},
        "Mounts": [{"Type": "volume", "Name": "anon1", "Destination": "/v", "RW": True}],
        "NetworkSettings": {"Networks": {"host": {}}},
    }
    recreate = recreate_request(old, image, "app:2")
    assert recreate.name == "web" and recreate.networks == {}
    config = recreate.config
    assert config["Env"] == ["B=2"] and config["Labels"] == {"team": "x"} and config["Volumes"] == {}
    assert "Cmd" not in config and "Hostname" not in config  # the new image's command; the host's name
    assert config["HostConfig"]["Mounts"] == [{"Type": "volume", "Source": "anon1", "Target": "/v", "ReadOnly": False}]
    assert config["HostConfig"]["Memory"] == 1 and "NetworkingConfig" not in config


def multi_platform(registry: str, repository: str, version: str) -> str:
    """repository:multi on the registry as an index of two platforms (one image each); the index digest."""
    host = os.environ["DOCKER_HOST"]
    parts = []
    for arch in ("amd64", "arm64"):
        part = f"{registry}/{repository}:{version}-{arch}"
        build(part, f"{version}-{arch}", ["sleep", "3600"])
        push(part)
        parts.append((part, arch))
    index = f"{registry}/{repository}:multi"
    made = docker_at(host, "manifest", "create", "--insecure", "--amend", index, *[p for p, _ in parts])
    assert made.returncode == 0, made.stderr
    for part, arch in parts:
        assert docker_at(host, "manifest", "annotate", "--arch", arch, index, part).returncode == 0
    pushed = docker_at(host, "manifest", "push", "--insecure", "--purge", index)
    assert pushed.returncode == 0, pushed.stderr
    return pushed.stdout.decode().strip().splitlines()[-1]


def test_a_multi_platform_tag_is_compared_by_its_index_digest(job_runner, operator_client, registry):
    repository = f"updates/multi{uuid.uuid4().hex[:6]}"
    tag = f"{registry}/{repository}:multi"
    try:
        first = multi_platform(registry, repository, "1")
        docker.from_env().api.pull(f"{registry}/{repository}", tag="multi")
        assert f"{registry}/{repository}@{first}" in docker.from_env().api.inspect_image(tag)["RepoDigests"]
        assert f"{tag}: up to date" in check(operator_client).output

        second = multi_platform(registry, repository, "2")
        assert second != first
        assert f"{tag}: update available" in check(operator_client).output
        assert snapshot.updates()["tags"][tag]["remote"] == second
    finally:
        for name in (tag, *(f"{registry}/{repository}:{v}-{a}" for v in "12" for a in ("amd64", "arm64"))):
            with contextlib.suppress(docker.errors.APIError):
                docker.from_env().api.remove_image(name, force=True)
