"""The shared view under a burst: several hundred containers created at once (another user's script),
quick exits among them. A few seconds after the burst, every state the console shows is the engine's.

Slow (a few minutes on a 2-core machine): `make test-burst` runs it, and CI does; `make test` does not."""

from __future__ import annotations

import threading
import time
import uuid

import docker
import pytest

from tests.conftest import wait_until

pytest_plugins = ["tests.watcher_process"]
pytestmark = [pytest.mark.burst, pytest.mark.serial, pytest.mark.fault]

CREATED = 300  # containers created in the burst
QUICK_EVERY = 6  # one in six is started and exits at once
LONG_EVERY = 25  # one in 25 is started and keeps running a while
SETTLED_AFTER = 5  # seconds after the burst within which the view must be the engine's
VOLUMES = 40  # on each of the last exits
LATE_EXIT = 25  # seconds: the late exits come once the console has listed the burst


def _burst(client: docker.DockerClient, image: str, prefix: str) -> None:
    def make(i: int) -> None:
        name, labels = f"{prefix}-{i}", {"burst": prefix}
        if i % LONG_EVERY == 0:
            client.containers.run(image, ["/bin/busybox", "sleep", "120"], name=name, labels=labels, detach=True)
        elif i % QUICK_EVERY == 0:
            client.containers.run(image, name=name, labels=labels, detach=True)  # cats a file and exits
        else:
            client.containers.create(image, name=name, labels=labels)

    todo = list(range(CREATED))
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop(0)
            make(i)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The last exits: five right at the end of the burst, and five more once the console has caught up with
    # it, each with volumes, whose unmounting the engine does between logging "die" and writing the state its
    # list reads (the case that stayed "Up" for minutes).
    for i in range(CREATED, CREATED + 10):
        volumes = {f"{prefix}-{i}-v{n}": {"bind": f"/data/{n}", "mode": "rw"} for n in range(VOLUMES)}
        command = ["/bin/busybox", "sleep", str(LATE_EXIT if i >= CREATED + 5 else 0)]
        client.containers.run(
            image, command, name=f"{prefix}-{i}", labels={"burst": prefix}, volumes=volumes, detach=True
        )


def test_a_burst_of_creates_and_quick_exits_leaves_no_stale_state(start_watcher, registry):
    from console import snapshot

    client = docker.from_env(timeout=120)
    image = f"{registry}/library/hello-world:latest"
    client.images.pull(image)
    watcher = start_watcher()
    watcher.wait_following()
    prefix = f"burst-{uuid.uuid4().hex[:6]}"
    try:
        _burst(client, image, prefix)

        def engine_states():
            return {
                c["Names"][0].lstrip("/"): c["State"] for c in client.api.containers(all=True, filters={"name": prefix})
            }

        # The quick ones and the late ones have all exited on the engine.
        wait_until(
            lambda: all(s != "running" for n, s in engine_states().items() if int(n.rsplit("-", 1)[1]) % LONG_EVERY),
            timeout=90,
            message="the quick and the late containers to exit",
        )
        time.sleep(SETTLED_AFTER)  # a few seconds after the last exit, nothing else happening
        truth = engine_states()
        shown = {c.names: c.state for c in snapshot.containers(all=True) if c.names.startswith(prefix)}
        stale = {name: (shown.get(name), state) for name, state in truth.items() if shown.get(name) != state}
        assert len(truth) == CREATED + 10
        assert not stale, f"{len(stale)} containers shown in a state the engine left (shown, engine): {stale}"
        # The counts card reads the engine's info: it must agree with the list.
        info = snapshot.read("info")[1]
        listed_running = sum(1 for c in snapshot.containers(all=True) if c.state == "running")
        assert info["ContainersRunning"] == listed_running
    finally:
        client.api.prune_containers(filters={"label": f"burst={prefix}"})  # the stopped ones
        for c in client.containers.list(filters={"name": prefix}):
            c.remove(force=True)
        client.api.prune_volumes()  # the last quick exits' named volumes, unused now
        watcher.stop()
