"""Issue #16: the watcher follows network and volume events: the lists follow a change made in a shell, which is
written to the audit trail as an outside change; the console's own are not."""

from __future__ import annotations

import re
import uuid

import pytest

from console import snapshot
from console.audit.models import AuditEvent
from console.audit.record import OUTSIDE
from tests.conftest import wait_until
from tests.test_networks import docker

pytest_plugins = ["tests.watcher_process"]


@pytest.fixture
def made():
    names: list[tuple[str, str]] = []
    yield names
    for kind, name in names:
        docker(kind, "rm", name, check=False)


def outside(action: str, target: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor_name=OUTSIDE, action=action, target=target))


def test_networks_and_volumes_made_in_a_shell_are_listed_and_attributed(start_watcher, made, operator_client):
    start_watcher().wait_following()
    shell_net, shell_vol, own_net = (f"t-{what}-{uuid.uuid4().hex[:8]}" for what in ("shell", "shellvol", "own"))
    made += [("network", shell_net), ("volume", shell_vol), ("network", own_net)]
    docker("network", "create", shell_net)
    docker("volume", "create", shell_vol)
    assert operator_client.post("/engines/local/networks/create/", {"name": own_net}).status_code == 302

    wait_until(lambda: any(n.name == shell_net for n in snapshot.networks()), message="the network in the snapshot")
    wait_until(lambda: any(v.name == shell_vol for v in snapshot.volumes()), message="the volume in the snapshot")
    assert shell_net in operator_client.get("/engines/local/networks/").content.decode()
    created = wait_until(lambda: outside("network.create", shell_net), message="the outside network create")
    assert created[0].outcome == "succeeded"
    wait_until(lambda: outside("volume.create", shell_vol), message="the outside volume create")

    docker("network", "rm", shell_net)
    wait_until(lambda: outside("network.destroy", shell_net), message="the outside network removal")
    wait_until(lambda: all(n.name != shell_net for n in snapshot.networks()), message="the network gone")
    # An open list asks every few seconds and hears "nothing changed" until something does.
    # (Tests beside this one change the shared engine's volumes too: a poll may hear of theirs first.)
    live, poll = {}, {"headers": {"HX-Request": "true"}}

    def unchanged_poll() -> bool:
        page = operator_client.get("/engines/local/volumes/").content.decode()
        live["v"] = re.search(r'"v": "([^"]+)"', page).group(1)
        return operator_client.get("/engines/local/volumes/", live, **poll).status_code == 204

    wait_until(unchanged_poll, message="an open volume list to hear that nothing changed")
    docker("volume", "rm", shell_vol)
    changed = wait_until(
        lambda: (
            (r := operator_client.get("/engines/local/volumes/", live, **poll)).status_code == 200
            and shell_vol not in r.content.decode()
            and r
        ),
        message="the open volume list to change",
    )
    assert 'id="volumes"' in changed.content.decode()

    # The console's own create is its own, not an outside change (the shell's, made after it, was judged by now).
    assert outside("network.create", own_net) == []
    assert AuditEvent.objects.filter(action="network.create", target=own_net).get().actor_name == "otto"
