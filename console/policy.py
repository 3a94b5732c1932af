"""The one place that decides what reaches the host: run, exec, networks and volumes call `check`.

It reads the HostConfig the engine is sent (or, for a container that exists, the one it was created with,
from its inspect), or the network or volume create request the engine is sent (or, to join a network, its
inspect), never form values: whatever parsing came before, this is what the engine acts on.
Anything not known to be harmless and set away from its default is a reason; only Admins may go ahead.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable
from typing import Any

from console import engine
from console.accounts.roles import ADMIN, has_role

# The engine's own rule for a volume name; a Binds source that is not one is a host path.
VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
HARMLESS_MOUNT_TYPES = ("volume", "tmpfs", "image")
HARMLESS_SECURITY_OPTS = ("no-new-privileges", "no-new-privileges:true", "no-new-privileges=true")
# Paths that hold the engine's socket: a bind of any of them is root on the host.
SOCKET_DIRS = ("/", "/var", "/var/run", "/run", "/var/run/docker.sock", "/run/docker.sock")
# Lists whose any entry reaches the host, with what each is called.
LISTS = {
    "CapAdd": "added capabilities",
    "Capabilities": "a capability set",
    "Devices": "host devices",
    "DeviceRequests": "device requests (e.g. GPUs)",
    "DeviceCgroupRules": "device cgroup rules",
}
NAMESPACES = {
    "NetworkMode": "network",
    "PidMode": "PID",
    "IpcMode": "IPC",
    "UTSMode": "UTS",
    "UsernsMode": "user",
    "Cgroup": "cgroup",
}


# A bridge network's options that change nothing outside it; any other (the host bridge's name, the host
# address published ports bind to, routed mode, …) reaches the host.
HARMLESS_NETWORK_OPTIONS = (
    "com.docker.network.driver.mtu",
    "com.docker.network.bridge.enable_icc",
    "com.docker.network.bridge.enable_ip_masquerade",
)
# The local volume driver's options for a tmpfs volume; any other mounts a host path, a device or a remote share.
HARMLESS_VOLUME_OPTIONS = {"type": ("tmpfs",), "device": ("tmpfs",)}
HARMLESS_TMPFS_OPTIONS = ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks")


class Refused(Exception):
    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def check(user, request: dict[str, Any], judge: Callable[[dict[str, Any]], list[str]] | None = None) -> list[str]:
    """The host-reaching settings of this request, judged by `judge` (a container's HostConfig by default):
    an Admin's go ahead, and are recorded; raises Refused for anyone else who has any. Raises EngineError
    when the engine cannot answer."""
    reasons = (judge or host_reaching)(request)
    if reasons and not has_role(user, ADMIN):
        raise Refused(reasons)
    return reasons


def host_reaching(host: dict[str, Any], _seen: frozenset[str] = frozenset()) -> list[str]:
    """Why a container with this HostConfig reaches the host, in words; [] when it does not."""
    reasons: list[str] = []
    if host.get("Privileged"):
        reasons.append("privileged mode")
    for key, mode in NAMESPACES.items():
        value = str(host.get(key) or "").strip()
        if value.lower() == "host":
            reasons.append(f"the host's {mode} namespace")
        elif value.lower().startswith("container:"):
            reasons.append(f"the {mode} namespace of container {value[10:]}")
    reasons += _network_mode(str(host.get("NetworkMode") or "").strip())
    if str(host.get("CgroupnsMode") or "").strip().lower() == "host" and _cgroupns_default() != "host":
        reasons.append("the host's cgroup namespace")
    for key, what in LISTS.items():
        if host.get(key):
            reasons.append(f"{what}: {_words(host[key])}")
    opts = [opt for opt in host.get("SecurityOpt") or [] if str(opt).strip().lower() not in HARMLESS_SECURITY_OPTS]
    if opts:
        reasons.append(f"security options: {_words(opts)}")
    if host.get("Sysctls"):
        reasons.append(f"sysctls: {_words(host['Sysctls'])}")
    if host.get("MaskedPaths") == [] or host.get("ReadonlyPaths") == []:
        reasons.append("unmasked /proc and /sys paths")
    if host.get("CgroupParent"):
        reasons.append(f"the host cgroup {host['CgroupParent']}")
    if (host.get("OomScoreAdj") or 0) < 0 or host.get("OomKillDisable"):
        reasons.append("protection from the host's out-of-memory killer")
    if str(host.get("VolumeDriver") or "local") != "local":
        reasons.append(f"the volume driver {host['VolumeDriver']}")
    reasons += _mounts(host)
    for ref in host.get("VolumesFrom") or []:
        name = str(ref).split(":")[0]
        if name in _seen:
            continue
        if inner := host_reaching(engine.host_config(name), _seen | {name}):
            reasons.append(f"volumes from container {name}, which reaches the host ({'; '.join(inner)})")
    return reasons


def _network_mode(name: str) -> list[str]:
    """A container on a network that reaches the host (macvlan, a host bridge) reaches it too."""
    if name.lower() in ("", "host", "none", "bridge", "default") or name.lower().startswith("container:"):
        return []
    try:
        inner = joining(engine.inspect_network(name).raw)
    except engine.NotFound:
        return []  # the engine refuses the run itself
    return [f"the network {name}, which reaches the host ({'; '.join(inner)})"] if inner else []


def network_reaching(body: dict[str, Any]) -> list[str]:
    """Why a network made by this create request (or described by this inspect) reaches the host; []: it does not.
    Only a bridge with the engine's default address management and harmless options does not."""
    reasons = []
    driver = str(body.get("Driver") or "bridge")
    if driver != "bridge":
        reasons.append(f"the network driver {driver}")
    options = {k: v for k, v in (body.get("Options") or {}).items() if k not in HARMLESS_NETWORK_OPTIONS}
    if options:
        reasons.append(f"network driver options {_words(options)}")
    ipam = body.get("IPAM") or {}
    if str(ipam.get("Driver") or "default") != "default":
        reasons.append(f"the address management driver {ipam['Driver']}")
    if ipam.get("Options"):
        reasons.append(f"address management options {_words(ipam['Options'])}")
    config_from = body.get("ConfigFrom")
    source = config_from.get("Network") if isinstance(config_from, dict) else config_from
    if source or body.get("ConfigOnly"):
        reasons.append(f"a network configuration {'from ' + str(source) if source else 'only'}")
    if body.get("Ingress"):
        reasons.append("the swarm's ingress network")
    if str(body.get("Scope") or "local") != "local":
        reasons.append(f"the scope {body['Scope']}")
    return reasons


def joining(inspect: dict[str, Any]) -> list[str]:
    """Why a container that joins this network (its inspect) reaches the host; the engine's own default
    bridge, where every container goes unless told otherwise, does not."""
    options = inspect.get("Options") or {}
    if inspect.get("Name") == "bridge" and options.get("com.docker.network.bridge.default_bridge") == "true":
        return []
    return network_reaching(inspect)


def volume_reaching(body: dict[str, Any]) -> list[str]:
    """Why a volume made by this create request (or described by this inspect) reaches the host; []: it does
    not. Only the local driver, with no options or those of a tmpfs, does not."""
    reasons = []
    driver = str(body.get("Driver") or "local")
    if driver != "local":
        reasons.append(f"the volume driver {driver}")
    options = body.get("DriverOpts", body.get("Options")) or {}
    odd = {}
    for key, value in options.items():
        if key == "o":
            words = [w.partition("=")[0] for w in str(value).split(",")]
            if any(w not in HARMLESS_TMPFS_OPTIONS for w in words):
                odd[key] = value
        elif value not in HARMLESS_VOLUME_OPTIONS.get(key, ()):
            odd[key] = value
    if odd:
        reasons.append(f"volume driver options {_words(odd)}")
    return reasons


def _mounts(host: dict[str, Any]) -> list[str]:
    reasons = []
    host_paths: list[str] = []
    named: list[str] = []
    for bind in host.get("Binds") or []:
        source = str(bind).split(":")[0]
        if VOLUME_NAME.fullmatch(source):
            named.append(source)
        else:
            host_paths.append(source)
    for mount in host.get("Mounts") or []:
        kind, source = str(mount.get("Type") or "volume"), str(mount.get("Source") or "")
        driver = (mount.get("VolumeOptions") or {}).get("DriverConfig") or {}
        if kind == "bind":
            host_paths.append(source)
        elif kind not in HARMLESS_MOUNT_TYPES:
            reasons.append(f"a {kind} mount of {source}")
        elif str(driver.get("Name") or "local") != "local":
            reasons.append(f"volume {source} with the driver {driver['Name']}")
        elif driver.get("Options"):
            reasons.append(f"volume {source} with driver options {_words(driver['Options'])}")
        elif kind == "volume" and source:
            named.append(source)
    reasons += [f"a bind mount of the host path {path}" for path in dict.fromkeys(host_paths)]
    if named:
        # The volumes' own options, judged as their create requests are: one call for all of them.
        volumes = {v.get("Name"): v for v in engine.raw_listing("volumes").get("Volumes") or []}
        for name in dict.fromkeys(named):
            inner = volume_reaching(volumes[name]) if name in volumes else []
            device = str((volumes.get(name, {}).get("Options") or {}).get("device") or "")
            if inner and device.startswith("/"):
                reasons.append(f"volume {name}, which binds the host path {device}")
                host_paths.append(device)
            elif inner:
                reasons.append(f"volume {name}, which reaches the host ({'; '.join(inner)})")
    sockets = [p for p in host_paths if posixpath.normpath(p or "/") in SOCKET_DIRS or p.endswith("docker.sock")]
    if sockets:
        reasons.append(f"the Docker socket (through {', '.join(dict.fromkeys(sockets))}): root on the host")
    return reasons


def _words(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return ", ".join(str(v.get("PathOnHost") or v.get("Driver") or v) if isinstance(v, dict) else str(v) for v in value)


def _cgroupns_default() -> str:
    return _engine_cgroupns_default(engine.address())


@functools.cache
def _engine_cgroupns_default(address: str) -> str:
    # cgroup v1 engines share the host's cgroup namespace by default; asking for it then changes nothing.
    return "host" if str(engine.raw_listing("info").get("CgroupVersion", "2")) == "1" else "private"
