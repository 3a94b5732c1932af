"""Networks: what `docker network ls / inspect / create / rm / prune / connect / disconnect` need.

Create and connect send the very body the console built (and the policy read), nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.engine.core import call, parse_time


@dataclass(frozen=True)
class NetworkRow:
    id: str
    name: str
    driver: str
    scope: str
    subnets: list[str]
    gateways: list[str]
    internal: bool
    attachable: bool
    created: datetime | None
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    containers: list[str] = field(default_factory=list)  # names of the containers attached

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def builtin(self) -> bool:
        """The engine's own networks, which it never removes."""
        return self.name in ("bridge", "host", "none")


@dataclass(frozen=True)
class Endpoint:
    container_id: str
    name: str
    ipv4: str
    ipv6: str
    mac: str


@dataclass(frozen=True)
class NetworkDetail:
    row: NetworkRow
    endpoints: list[Endpoint]
    raw: dict[str, Any]


def _row(raw: dict[str, Any], containers: list[str]) -> NetworkRow:
    configs = (raw.get("IPAM") or {}).get("Config") or []
    return NetworkRow(
        id=raw.get("Id", ""),
        name=raw.get("Name", ""),
        driver=raw.get("Driver", ""),
        scope=raw.get("Scope", ""),
        subnets=[c["Subnet"] for c in configs if c.get("Subnet")],
        gateways=[c["Gateway"] for c in configs if c.get("Gateway")],
        internal=bool(raw.get("Internal")),
        attachable=bool(raw.get("Attachable")),
        created=parse_time(raw.get("Created")),
        labels=raw.get("Labels") or {},
        options=raw.get("Options") or {},
        containers=containers,
    )


def network_rows(raw: list[dict[str, Any]], containers: list[dict[str, Any]]) -> list[NetworkRow]:
    """`docker network ls`' rows, by name, with the containers attached to each (from the containers' listing:
    the engine's network list leaves them out)."""
    attached: dict[str, list[str]] = {}
    for container in containers:
        name = (container.get("Names") or ["/?"])[0].lstrip("/")
        for net in ((container.get("NetworkSettings") or {}).get("Networks") or {}).values():
            attached.setdefault(net.get("NetworkID", ""), []).append(name)
    rows = [_row(net, sorted(attached.get(net.get("Id", ""), []))) for net in raw]
    return sorted(rows, key=lambda r: r.name)


def inspect_network(name: str) -> NetworkDetail:
    raw = call(lambda c: c.api.inspect_network(name))
    endpoints = [
        Endpoint(
            container_id=cid,
            name=str(ep.get("Name", "")),
            ipv4=str(ep.get("IPv4Address", "")),
            ipv6=str(ep.get("IPv6Address", "")),
            mac=str(ep.get("MacAddress", "")),
        )
        for cid, ep in (raw.get("Containers") or {}).items()
    ]
    endpoints.sort(key=lambda e: e.name)
    return NetworkDetail(_row(raw, [e.name for e in endpoints]), endpoints, raw)


def network_body(spec: dict[str, Any]) -> dict[str, Any]:
    """The engine's create request (`POST /networks/create`), from the known keys of a checked spec."""
    ipam: dict[str, Any] = {}
    if spec.get("subnet") or spec.get("gateway"):
        pool = {"Subnet": spec.get("subnet") or None, "Gateway": spec.get("gateway") or None}
        ipam = {"Driver": "default", "Config": [{k: v for k, v in pool.items() if v}]}
    body: dict[str, Any] = {
        "Name": spec["name"],
        "Driver": spec.get("driver") or "bridge",
        "Internal": bool(spec.get("internal")),
        "Attachable": bool(spec.get("attachable")),
        "Labels": dict(spec.get("labels") or {}),
        "Options": dict(spec.get("options") or {}),
    }
    if ipam:
        body["IPAM"] = ipam
    return body


def create_network(body: dict[str, Any]) -> str:
    """Send this create request as it is; the new network's id."""

    def create(c):
        api = c.api
        return api._result(api._post_json(api._url("/networks/create"), data=body), json=True)

    return call(create)["Id"]


def remove_network(name: str) -> None:
    call(lambda c: c.api.remove_network(name))


def prune_networks() -> list[str]:
    """`docker network prune`: the names of the networks the engine removed."""
    return call(lambda c: c.api.prune_networks()).get("NetworksDeleted") or []


def connect_body(container: str, aliases: list[str], ipv4: str) -> dict[str, Any]:
    endpoint: dict[str, Any] = {}
    if aliases:
        endpoint["Aliases"] = aliases
    if ipv4:
        endpoint["IPAMConfig"] = {"IPv4Address": ipv4}
    return {"Container": container, "EndpointConfig": endpoint}


def connect_container(network: str, body: dict[str, Any]) -> None:
    def connect(c):
        api = c.api
        api._raise_for_status(api._post_json(api._url("/networks/{0}/connect", network), data=body))

    call(connect)


def disconnect_container(network: str, container: str) -> None:
    call(lambda c: c.api.disconnect_container_from_network(container, network))
