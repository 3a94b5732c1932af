"""A container's "die" event comes before the engine's list shows it exited: moby logs the event, then
cleans up (unmounts volumes, releases the network), and only then writes the state its container list
reads. A listing made on the event can still say "running". The shared view must not keep it."""

from __future__ import annotations

import time
import uuid

import docker
import pytest

from tests.conftest import wait_until

pytest_plugins = ["tests.watcher_process"]
pytestmark = [pytest.mark.serial]

VOLUMES = 40  # each is unmounted in the engine's clean-up, between the event and the state the list reads


def test_a_container_that_exits_is_never_left_shown_running(start_watcher, registry):
    from console import snapshot

    client = docker.from_env(timeout=120)
    image = f"{registry}/library/hello-world:latest"
    client.images.pull(image)
    watcher = start_watcher()
    watcher.wait_following()
    name = f"quick-{uuid.uuid4().hex[:6]}"
    volumes = [f"{name}-v{i}" for i in range(VOLUMES)]
    try:
        container = client.containers.run(
            image,
            ["/bin/busybox", "sleep", "1"],
            name=name,
            detach=True,
            volumes={v: {"bind": f"/data/{i}", "mode": "rw"} for i, v in enumerate(volumes)},
        )
        wait_until(lambda: client.api.inspect_container(container.id)["State"]["Status"] == "exited", timeout=30)
        time.sleep(3)  # a few seconds after the exit, nothing else happening on the engine
        shown = {c.names: c.state for c in snapshot.containers(all=True)}
        assert shown.get(name) == "exited", f"{name} is shown {shown.get(name)!r} 3 s after it exited"
        info = snapshot.read("info")[1]
        assert info["ContainersRunning"] == sum(1 for state in shown.values() if state == "running")
    finally:
        client.api.remove_container(name, force=True)
        for v in volumes:
            client.api.remove_volume(v, force=True)
        watcher.stop()
