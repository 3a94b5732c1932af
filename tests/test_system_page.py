"""The System page says everything `docker info` and `docker version` say, from the live engine."""

import os

import docker
import pytest
from django.urls import reverse
from django.utils.html import escape

import console
from console.system.facts import binary_size, yes_no
from tests.engine_proxy import EngineProxy

pytest_plugins = ["tests.watcher_process"]


def fact(label: str, value) -> str:
    return f"<dt>{escape(label)}</dt><dd>{escape(str(value))}</dd>"


@pytest.fixture
def page(viewer_client, clean_snapshot) -> str:
    response = viewer_client.get(reverse("system", args=["local"]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.serial  # counts or compares what the whole engine holds
def test_it_shows_every_field_of_docker_info(page, registry):
    info = docker.from_env().info()
    expected = [
        ("Containers", info["Containers"]),
        ("Running", info["ContainersRunning"]),
        ("Paused", info["ContainersPaused"]),
        ("Stopped", info["ContainersStopped"]),
        ("Images", info["Images"]),
        ("Server version", info["ServerVersion"]),
        ("Storage driver", info["Driver"]),
        ("Logging driver", info["LoggingDriver"]),
        ("Cgroup driver", info["CgroupDriver"]),
        ("Cgroup version", info["CgroupVersion"]),
        ("Runtimes", ", ".join(sorted(info["Runtimes"]))),
        ("Default runtime", info["DefaultRuntime"]),
        ("Kernel version", info["KernelVersion"]),
        ("Operating system", info["OperatingSystem"]),
        ("OS type", info["OSType"]),
        ("Architecture", info["Architecture"]),
        ("CPUs", info["NCPU"]),
        ("Total memory", binary_size(info["MemTotal"])),
        ("Name", info["Name"]),
        ("ID", info["ID"]),
        ("Root directory", info["DockerRootDir"]),
        ("Debug mode", yes_no(info["Debug"])),
        ("Experimental", yes_no(info["ExperimentalBuild"])),
        ("Live restore", yes_no(info["LiveRestoreEnabled"])),
        ("Registry mirrors", ", ".join(info["RegistryConfig"]["Mirrors"])),
        # the backing filesystem and the rest of what the storage driver reports
        *[(k, v) for k, v in info["DriverStatus"]],
    ]
    for label, value in expected:
        assert fact(label, value) in page, label
    assert any(k == "Backing Filesystem" for k, _ in info["DriverStatus"])
    # security options as docker info words them: seccomp (profile: default)
    assert "<dt>Security options</dt><dd>seccomp (profile: default)" in page
    # the lab registry is insecure (plain HTTP), and so is the loopback range
    insecure = page.split("<dt>Insecure registries</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert registry in insecure and "127.0.0.0/8" in insecure
    assert f"http://{registry}/" in page


def test_it_shows_every_field_of_docker_version_server_components_and_client(page):
    client = docker.from_env()
    version = client.version()
    server = next(c["Details"] for c in version["Components"] if c["Name"] == "Engine")
    for label, value in [
        ("Version", version["Version"]),
        ("API version", f"{version['ApiVersion']} (minimum version {version['MinAPIVersion']})"),
        ("Go version", version["GoVersion"]),
        ("Git commit", version["GitCommit"]),
        ("Built", version["BuildTime"]),
        ("OS/Arch", f"{version['Os']}/{version['Arch']}"),
        ("Experimental", yes_no(server["Experimental"])),
    ]:
        assert fact(label, value) in page, label
    names = {c["Name"] for c in version["Components"]}
    assert {"containerd", "runc", "docker-init"} <= names
    for component in version["Components"]:
        if component["Name"] != "Engine":
            commit = component["Details"].get("GitCommit") or "none"
            assert fact(component["Name"], f"{component['Version']} (git commit {commit})") in page
    assert fact("Console version", console.__version__) in page
    assert fact("Docker SDK for Python", docker.__version__) in page
    assert fact("API version negotiated", client.api.api_version) in page


def test_no_page_load_asks_the_engine_for_disk_use_or_container_sizes(admin_client, settings, clean_snapshot):
    proxy = EngineProxy(os.environ["DOCKER_HOST"]).start()
    settings.DOCKER_HOST = proxy.address
    try:
        for name in ("dashboard", "system", "image_list", "container_list"):
            assert admin_client.get(reverse(name, args=["local"])).status_code == 200
        for name in ("fleet", "job_list"):
            assert admin_client.get(reverse(name)).status_code == 200
        assert admin_client.get(reverse("container_list", args=["local"]), {"all": "1"}).status_code == 200
    finally:
        proxy.stop()
    asked = proxy.since(0)
    assert any("/containers/json" in r for r in asked) and any("/info" in r for r in asked)
    assert not [r for r in asked if "/system/df" in r or "size=1" in r or "size=true" in r], asked
