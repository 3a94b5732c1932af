"""Containers: what `docker ps`, `inspect`, `top`, `stats` and the lifecycle actions need."""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.engine.core import call, parse_time

# `docker ps` without -a lists the containers the engine counts as running.
RUNNING_STATES = ("running", "paused", "restarting")


@dataclass(frozen=True)
class ContainerRow:
    id: str
    names: str
    image: str
    command: str
    created: datetime | None
    state: str
    status: str
    ports: str
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return self.id[:12]


def format_ports(ports: list[dict[str, Any]]) -> str:
    """Ports as `docker ps` shows them: 127.0.0.1:8080->80/tcp, 443/tcp."""
    parts = []
    for p in sorted(ports, key=lambda p: (p.get("PrivatePort", 0), p.get("IP", ""))):
        inner = f"{p.get('PrivatePort')}/{p.get('Type', 'tcp')}"
        if p.get("PublicPort"):
            ip = p.get("IP") or "0.0.0.0"
            host = f"[{ip}]" if ":" in ip else ip
            parts.append(f"{host}:{p['PublicPort']}->{inner}")
        else:
            parts.append(inner)
    return ", ".join(dict.fromkeys(parts))


# The engine's status texts ("Up 5 seconds", "Exited (0) About a minute ago") hold a duration as of the
# listing; a page rendered later says it as of now.
_STATUS = re.compile(r"^(Up |(?:Exited|Restarting) \(-?\d+\) )(.+?)( ago)?((?: \(.*\))?)$")
_UNIT_SECONDS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 604800,
    "month": 2592000,
    "year": 31536000,
}


def _seconds(duration: str) -> int | None:
    """Go's units.HumanDuration read back: "Less than a second", "About a minute", "3 hours", …"""
    words = duration.lower().split()
    if words == ["less", "than", "a", "second"]:
        return 0
    if len(words) == 3 and words[0] == "about":
        return _UNIT_SECONDS.get(words[2].rstrip("s"))
    if len(words) == 2 and words[0].isdigit() and words[1].rstrip("s") in _UNIT_SECONDS:
        return int(words[0]) * _UNIT_SECONDS[words[1].rstrip("s")]
    return None


def human_duration(seconds: float) -> str:
    """As Docker says a duration (go-units HumanDuration), in lower case for use mid-sentence."""
    s = int(seconds)
    if s < 1:
        return "less than a second"
    if s < 60:
        return "1 second" if s == 1 else f"{s} seconds"
    minutes = s // 60
    if minutes < 60:
        return "about a minute" if minutes == 1 else f"{minutes} minutes"
    hours = round(s / 3600)
    if hours == 1:
        return "about an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 14:
        return f"{hours // 24} days"
    if hours < 24 * 60:
        return f"{hours // (24 * 7)} weeks"
    if hours < 24 * 730:
        return f"{hours // (24 * 30)} months"
    return f"{s // 31536000} years"


def status_now(status: str, elapsed: float) -> str:
    """A status text listed `elapsed` seconds ago, as it reads now ("Up 5 seconds" then, "Up 15 seconds" now)."""
    match = _STATUS.match(status)
    if not match or (seconds := _seconds(match.group(2))) is None:
        return status
    head, _, ago, tail = match.groups()
    return f"{head}{human_duration(seconds + max(0.0, elapsed))}{ago or ''}{tail}"


def short_image(image: str) -> str:
    """The IMAGE column as `docker ps` shows it: an id (the image lost its name) in 12 characters, a name
    without its digest."""
    if image.startswith("sha256:"):
        return image.removeprefix("sha256:")[:12]
    return image.partition("@")[0]


def _container_row(raw: dict[str, Any], elapsed: float = 0.0) -> ContainerRow:
    command = raw.get("Command") or ""
    return ContainerRow(
        id=raw["Id"],
        names=",".join(n.lstrip("/") for n in raw.get("Names") or []),
        image=short_image(raw.get("Image", "")),
        command=command,
        created=parse_time(raw.get("Created")),
        state=raw.get("State", ""),
        status=status_now(raw.get("Status", ""), elapsed),
        ports=format_ports(raw.get("Ports") or []),
        labels=raw.get("Labels") or {},
    )


def container_rows(raw: list[dict[str, Any]], all: bool = False, listed_at: float | None = None) -> list[ContainerRow]:
    """Rows from the engine's `GET /containers/json?all=1` answer (listed at `listed_at`, a time: statuses
    are said as of now); without `all`, running ones only."""
    elapsed = 0.0 if listed_at is None else time.time() - listed_at
    return [_container_row(c, elapsed) for c in raw if all or c.get("State") in RUNNING_STATES]


def list_containers(all: bool = False) -> list[ContainerRow]:
    return container_rows(call(lambda c: c.api.containers(all=True)), all=all)


# --- one container ------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkRow:
    name: str
    ip: str
    gateway: str
    mac: str
    ipv6: str
    aliases: list[str]


@dataclass(frozen=True)
class ContainerDetail:
    id: str
    name: str
    image: str
    image_id: str
    created: datetime | None
    status: str
    exit_code: int
    error: str
    oom_killed: bool
    started: datetime | None
    finished: datetime | None
    restart_count: int
    health: str
    health_streak: int
    path: str
    args: list[str]
    entrypoint: list[str]
    cmd: list[str]
    working_dir: str
    user: str
    tty: bool
    env: list[tuple[str, str]]
    mounts: list[dict[str, Any]]
    networks: list[NetworkRow]
    ports: list[tuple[str, str]]
    labels: dict[str, str]
    restart_policy: str
    auto_remove: bool
    privileged: bool
    network_mode: str
    host_config: dict[str, Any] = field(default_factory=dict)  # as the engine keeps it: what the policy reads

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.status in RUNNING_STATES

    @property
    def command(self) -> str:
        return shlex.join([self.path, *self.args]) if self.path else ""


def _restart_policy(policy: dict[str, Any]) -> str:
    name = policy.get("Name") or "no"
    retries = policy.get("MaximumRetryCount") or 0
    return f"{name}:{retries}" if name == "on-failure" and retries else name


def _ports(bindings: dict[str, list[dict[str, str]] | None]) -> list[tuple[str, str]]:
    rows = []
    for inner, hosts in sorted((bindings or {}).items()):
        published = [f"{h.get('HostIp') or '0.0.0.0'}:{h.get('HostPort')}" for h in hosts or []]
        rows.append((inner, ", ".join(published)))
    return rows


def _detail(raw: dict[str, Any]) -> ContainerDetail:
    state = raw.get("State") or {}
    config = raw.get("Config") or {}
    host = raw.get("HostConfig") or {}
    net = raw.get("NetworkSettings") or {}
    health = state.get("Health") or {}
    env = [(name, value) for name, _, value in (item.partition("=") for item in config.get("Env") or [])]
    networks = [
        NetworkRow(
            name=name,
            ip=n.get("IPAddress", ""),
            gateway=n.get("Gateway", ""),
            mac=n.get("MacAddress", ""),
            ipv6=n.get("GlobalIPv6Address", ""),
            aliases=n.get("Aliases") or [],
        )
        for name, n in sorted((net.get("Networks") or {}).items())
    ]
    return ContainerDetail(
        id=raw["Id"],
        name=raw.get("Name", "").lstrip("/"),
        image=config.get("Image", ""),
        image_id=raw.get("Image", ""),
        created=parse_time(raw.get("Created")),
        status=state.get("Status", ""),
        exit_code=state.get("ExitCode", 0),
        error=state.get("Error", ""),
        oom_killed=bool(state.get("OOMKilled")),
        started=parse_time(state.get("StartedAt")),
        finished=parse_time(state.get("FinishedAt")),
        restart_count=raw.get("RestartCount", 0),
        health=health.get("Status", ""),
        health_streak=health.get("FailingStreak", 0),
        path=raw.get("Path", ""),
        args=raw.get("Args") or [],
        entrypoint=config.get("Entrypoint") or [],
        cmd=config.get("Cmd") or [],
        working_dir=config.get("WorkingDir", ""),
        user=config.get("User", ""),
        tty=bool(config.get("Tty")),
        env=env,
        mounts=raw.get("Mounts") or [],
        networks=networks,
        ports=_ports(net.get("Ports")),
        labels=config.get("Labels") or {},
        restart_policy=_restart_policy(host.get("RestartPolicy") or {}),
        auto_remove=bool(host.get("AutoRemove")),
        privileged=bool(host.get("Privileged")),
        network_mode=host.get("NetworkMode", ""),
        host_config=host,
    )


def inspect_container(ref: str) -> ContainerDetail:
    """`docker inspect` of a container by id, short id or name."""
    return _detail(call(lambda c: c.api.inspect_container(ref)))


def host_config(ref: str) -> dict[str, Any]:
    return inspect_container(ref).host_config


def container_top(ref: str) -> tuple[list[str], list[list[str]]]:
    """`docker top`: column titles and one row per process."""
    raw = call(lambda c: c.api.top(ref))
    return raw.get("Titles") or [], raw.get("Processes") or []


# --- lifecycle ----------------------------------------------------------------------


def start_container(ref: str) -> None:
    call(lambda c: c.api.start(ref))


def stop_container(ref: str, grace: int) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds, as `docker stop -t`."""
    call(lambda c: c.api.stop(ref, timeout=grace))


def restart_container(ref: str, grace: int) -> None:
    call(lambda c: c.api.restart(ref, timeout=grace))


def kill_container(ref: str, signal: str) -> None:
    call(lambda c: c.api.kill(ref, signal=signal))


def pause_container(ref: str) -> None:
    call(lambda c: c.api.pause(ref))


def unpause_container(ref: str) -> None:
    call(lambda c: c.api.unpause(ref))


def rename_container(ref: str, name: str) -> None:
    call(lambda c: c.api.rename(ref, name))


def remove_container(ref: str, force: bool = False, volumes: bool = False) -> None:
    """`docker rm [-f] [-v]`; the engine refuses a running container without force (409)."""
    call(lambda c: c.api.remove_container(ref, v=volumes, force=force))


# --- stats ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsSample:
    running: bool  # a container that is not running answers with an empty sample
    cpu_total: int
    system_total: int
    online_cpus: int
    memory_used: int
    memory_limit: int
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int


def _memory_used(memory: dict[str, Any]) -> int:
    # As `docker stats`: the page cache the kernel can drop is not counted (cgroup v1 and v2 names).
    stats = memory.get("stats") or {}
    usage = memory.get("usage") or 0
    for key in ("total_inactive_file", "inactive_file"):
        if key in stats and stats[key] < usage:
            return usage - stats[key]
    return usage


def _block_io(blkio: dict[str, Any]) -> tuple[int, int]:
    read = write = 0
    for entry in blkio.get("io_service_bytes_recursive") or []:
        op = (entry.get("op") or "").lower()
        if op == "read":
            read += entry.get("value", 0)
        elif op == "write":
            write += entry.get("value", 0)
    return read, write


def container_stats(ref: str) -> StatsSample:
    """One sample, answered at once; CPU % needs two samples, so callers keep the previous one."""
    raw = call(lambda c: c.api.stats(ref, stream=False, one_shot=True))
    cpu = raw.get("cpu_stats") or {}
    usage = cpu.get("cpu_usage") or {}
    networks = (raw.get("networks") or {}).values()
    read, write = _block_io(raw.get("blkio_stats") or {})
    memory = raw.get("memory_stats") or {}
    return StatsSample(
        running=parse_time(raw.get("read")) is not None,
        cpu_total=usage.get("total_usage", 0),
        system_total=cpu.get("system_cpu_usage", 0),
        online_cpus=cpu.get("online_cpus") or len(usage.get("percpu_usage") or []) or 1,
        memory_used=_memory_used(memory),
        memory_limit=memory.get("limit", 0),
        net_rx=sum(n.get("rx_bytes", 0) for n in networks),
        net_tx=sum(n.get("tx_bytes", 0) for n in networks),
        block_read=read,
        block_write=write,
        pids=(raw.get("pids_stats") or {}).get("current", 0),
    )
