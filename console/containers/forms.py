"""The run form: every engine option it can set is a field here, checked here; nothing else reaches the engine."""

from __future__ import annotations

import ipaddress
import re
import shlex
from typing import Any

from django import forms

from console.images.reference import InvalidReference, parse

NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}")
ENV_NAME = re.compile(r"[^=\s][^=]*")
CAPABILITY = re.compile(r"(CAP_)?[A-Z_]{2,40}")
RESTART_POLICIES = [
    ("no", "no — do not restart"),
    ("on-failure", "on-failure — restart when it exits non-zero"),
    ("always", "always"),
    ("unless-stopped", "unless-stopped"),
]
NAMESPACE_MODES = [("", "the container's own"), ("host", "the host's")]
IPC_MODES = [*NAMESPACE_MODES, ("private", "private"), ("shareable", "shareable"), ("none", "none")]
MOUNT_TYPES = {"bind", "volume", "tmpfs"}

DETACH_KEYS = "ctrl-p,ctrl-q"  # docker's own default
DETACH_KEY = r"(ctrl-[a-z@\[\\\]^_]|[!-~])"
# Options that give a container power over the host: shown to Admins only. Who may use them is decided
# by console.policy on the request they turn into, not here.
ADMIN_FIELDS = (
    "privileged",
    "binds",
    "mounts",
    "pid_mode",
    "ipc_mode",
    "uts_mode",
    "cap_add",
    "devices",
    "security_opt",
    "sysctls",
)


COMMAND_LIMIT = 4096  # characters of a command, here and for exec
TEXT_LIMIT = 20_000  # characters of a multi-line field
LINE_LIMIT = 100  # lines of a multi-line field


def _lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > LINE_LIMIT:
        raise forms.ValidationError(f"At most {LINE_LIMIT} lines, please (this has {len(lines)}).")
    return lines


def _multiline(rows: int, **kwargs: Any) -> forms.CharField:
    return forms.CharField(widget=forms.Textarea(attrs={"rows": rows}), required=False, max_length=TEXT_LIMIT, **kwargs)


def _absolute(path: str, what: str) -> str:
    if not path.startswith("/"):
        raise forms.ValidationError(f"{what} “{path}” must be an absolute path (starting with /).")
    return path


def _is_host_path(source: str) -> bool:
    return source.startswith(("/", ".", "~"))


def parse_port(line: str) -> dict[str, str]:
    """[host-ip:][host-port:]container-port[/protocol]; the host address defaults to 127.0.0.1."""
    spec, _, proto = line.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise forms.ValidationError(f"“{line}”: the protocol must be tcp, udp or sctp.")
    host_ip = "127.0.0.1"
    if spec.startswith("["):  # [IPv6]:host-port:container-port
        address, bracket, spec = spec[1:].partition("]")
        if not bracket or not spec.startswith(":"):
            raise forms.ValidationError(f"“{line}”: write an IPv6 address as [::1]:8080:80.")
        host_ip, spec = address, spec[1:]
        parts = ["", *spec.split(":")] if spec.count(":") == 1 else None
    else:
        parts = spec.split(":")
    if parts is None or len(parts) > 3:
        raise forms.ValidationError(f"“{line}” is not a port mapping; write e.g. 8080:80 or 127.0.0.1:8080:80.")
    if len(parts) == 3:
        host_ip = parts[0] or host_ip
    host_port = parts[-2] if len(parts) >= 2 else ""
    container_port = parts[-1]
    try:
        ipaddress.ip_address(host_ip)
    except ValueError:
        raise forms.ValidationError(f"“{line}”: “{host_ip}” is not an IP address.") from None
    for port, required in ((container_port, True), (host_port, False)):
        if (required or port) and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
            raise forms.ValidationError(f"“{line}”: “{port}” is not a port number (1–65535).")
    return {"container": f"{int(container_port)}/{proto}", "host_ip": host_ip, "host_port": host_port}


def parse_mount(line: str) -> dict[str, Any]:
    """`--mount` syntax: type=bind,source=/srv,target=/data,readonly (also volume-opt=… and tmpfs)."""
    mount: dict[str, Any] = {"Type": "volume"}
    for item in line.split(","):
        key, eq, value = item.strip().partition("=")
        key = key.lower()
        if key in ("readonly", "ro") and value.lower() in ("", "1", "true"):
            mount["ReadOnly"] = True
        elif not eq:
            raise forms.ValidationError(f"“{line}”: “{item}” is not key=value.")
        elif key == "type":
            if value not in MOUNT_TYPES:
                raise forms.ValidationError(f"“{line}”: the type must be bind, volume or tmpfs.")
            mount["Type"] = value
        elif key in ("source", "src"):
            mount["Source"] = value
        elif key in ("target", "destination", "dst"):
            mount["Target"] = _absolute(value, "The target")
        elif key == "volume-driver":
            mount.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})["Name"] = value
        elif key == "volume-opt":
            name, _, option = value.partition("=")
            driver = mount.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})
            driver.setdefault("Options", {})[name] = option
        else:
            raise forms.ValidationError(f"“{line}”: unknown mount option “{key}”.")
    if "Target" not in mount:
        raise forms.ValidationError(f"“{line}”: a mount needs target=/path.")
    if mount["Type"] == "bind":
        _absolute(mount.get("Source", ""), "The source of a bind mount")
    return mount


class RunForm(forms.Form):
    image = forms.CharField(max_length=500, help_text="e.g. hello-world, httpd:2.4")
    name = forms.CharField(max_length=128, required=False, help_text="Leave empty for a generated name.")
    command = forms.CharField(
        max_length=COMMAND_LIMIT, required=False, help_text="Replaces the image's CMD, e.g. echo hi."
    )
    environment = _multiline(3, help_text="KEY=value, one a line.")
    ports = _multiline(
        2,
        help_text="host-port:container-port, one a line, e.g. 8080:80. Published on 127.0.0.1 unless you "
        "write another address on purpose, e.g. 0.0.0.0:8080:80.",
    )
    volumes = _multiline(
        2,
        help_text="Named volumes: name:/path[:ro], one a line.",
    )
    network_mode = forms.CharField(
        max_length=200,
        required=False,
        label="Network",
        widget=forms.TextInput(attrs={"list": "network-names"}),
        help_text="A network's name, bridge or none; host and container:<name> are for Admins.",
    )
    restart_policy = forms.ChoiceField(choices=RESTART_POLICIES, initial="no")
    max_retries = forms.IntegerField(min_value=0, max_value=1000, required=False, help_text="For on-failure.")
    auto_remove = forms.BooleanField(required=False, label="Remove the container when it exits (--rm)")
    follow = forms.BooleanField(required=False, initial=True, label="Follow its output on the job page")
    interactive = forms.BooleanField(
        required=False, label="Interactive, with a terminal (docker run -it): open it in the browser once it runs"
    )
    detach_keys = forms.CharField(
        max_length=64,
        required=False,
        initial=DETACH_KEYS,
        help_text="Keys that leave an interactive container running and close its terminal (--detach-keys).",
    )
    # Shown to Admins only (ADMIN_FIELDS).
    privileged = forms.BooleanField(required=False, label="Privileged (full access to the host's devices)")
    binds = _multiline(
        2,
        label="Bind mounts of host paths",
        help_text="/host/path:/container/path[:ro], one a line.",
    )
    mounts = _multiline(
        2,
        help_text="--mount syntax, one a line, e.g. type=bind,source=/srv,target=/data,readonly.",
    )
    pid_mode = forms.ChoiceField(choices=NAMESPACE_MODES, required=False, label="PID namespace")
    ipc_mode = forms.ChoiceField(choices=IPC_MODES, required=False, label="IPC namespace")
    uts_mode = forms.ChoiceField(choices=NAMESPACE_MODES, required=False, label="UTS namespace")
    cap_add = forms.CharField(
        max_length=1000, required=False, label="Added capabilities", help_text="e.g. NET_ADMIN SYS_TIME"
    )
    devices = _multiline(
        2,
        help_text="/dev/host[:/dev/container[:rwm]], one a line.",
    )
    security_opt = _multiline(
        2,
        label="Security options",
        help_text="e.g. seccomp=unconfined",
    )
    sysctls = _multiline(2, help_text="name=value, one a line.")

    def basic_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in ADMIN_FIELDS]

    def admin_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ADMIN_FIELDS]

    def clean_image(self) -> str:
        try:
            return str(parse(self.cleaned_data["image"]))
        except InvalidReference as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip().lstrip("/")
        if name and not NAME.fullmatch(name):
            raise forms.ValidationError("A name is letters, digits, _ . and -, starting with a letter or digit.")
        return name

    def clean_command(self) -> list[str]:
        try:
            return shlex.split(self.cleaned_data["command"])
        except ValueError as exc:
            raise forms.ValidationError(f"The command cannot be split into words: {exc}.") from None

    def clean_environment(self) -> list[str]:
        lines = _lines(self.cleaned_data["environment"])
        for line in lines:
            name, eq, _ = line.partition("=")
            if not eq or not ENV_NAME.fullmatch(name):
                raise forms.ValidationError(f"“{name}”: write each variable as NAME=value.")
        return lines

    def clean_ports(self) -> list[dict[str, str]]:
        return [parse_port(line) for line in _lines(self.cleaned_data["ports"])]

    def clean_volumes(self) -> list[dict[str, Any]]:
        volumes = []
        for line in _lines(self.cleaned_data["volumes"]):
            source, _, rest = line.partition(":")
            target, _, mode = rest.partition(":")
            if mode not in ("", "ro", "rw"):
                raise forms.ValidationError(f"“{line}”: the mode is ro or rw.")
            if _is_host_path(source):
                _absolute(source, "The host path")
            elif not NAME.fullmatch(source):
                raise forms.ValidationError(f"“{line}”: “{source}” is not a volume name.")
            volumes.append({"source": source, "target": _absolute(target, "The path"), "read_only": mode == "ro"})
        return volumes

    def clean_max_retries(self) -> int:
        return self.cleaned_data["max_retries"] or 0

    def clean_binds(self) -> list[str]:
        binds = []
        for line in _lines(self.cleaned_data["binds"]):
            parts = line.split(":")
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
                raise forms.ValidationError(f"“{line}”: write /host/path:/container/path[:ro].")
            _absolute(parts[0], "The host path")
            _absolute(parts[1], "The container path")
            binds.append(line)
        return binds

    def clean_mounts(self) -> list[dict[str, Any]]:
        return [parse_mount(line) for line in _lines(self.cleaned_data["mounts"])]

    def clean_network_mode(self) -> str:
        mode = self.cleaned_data["network_mode"].strip()
        if mode and not (NAME.fullmatch(mode) or (mode.startswith("container:") and NAME.fullmatch(mode[10:]))):
            raise forms.ValidationError("Write host, none, bridge, container:<name> or a network name.")
        return mode

    def clean_cap_add(self) -> list[str]:
        caps = self.cleaned_data["cap_add"].replace(",", " ").upper().split()
        for cap in caps:
            if not CAPABILITY.fullmatch(cap):
                raise forms.ValidationError(f"“{cap}” is not a capability name.")
        return caps

    def clean_devices(self) -> list[dict[str, str]]:
        devices = []
        for line in _lines(self.cleaned_data["devices"]):
            parts = line.split(":")
            if len(parts) > 3:
                raise forms.ValidationError(f"“{line}”: write /dev/host[:/dev/container[:rwm]].")
            host = _absolute(parts[0], "The device")
            inner = _absolute(parts[1], "The device") if len(parts) > 1 and parts[1] else host
            permissions = parts[2] if len(parts) > 2 else "rwm"
            if not permissions or set(permissions) - set("rwm"):
                raise forms.ValidationError(f"“{line}”: permissions are letters of rwm.")
            devices.append({"PathOnHost": host, "PathInContainer": inner, "CgroupPermissions": permissions})
        return devices

    def clean_security_opt(self) -> list[str]:
        return _lines(self.cleaned_data["security_opt"])

    def clean_sysctls(self) -> dict[str, str]:
        sysctls = {}
        for line in _lines(self.cleaned_data["sysctls"]):
            name, eq, value = line.partition("=")
            if not eq or not name.strip():
                raise forms.ValidationError(f"“{line}”: write name=value.")
            sysctls[name.strip()] = value.strip()
        return sysctls

    def clean_detach_keys(self) -> str:
        keys = self.cleaned_data["detach_keys"].strip().lower() or DETACH_KEYS
        if not re.fullmatch(f"{DETACH_KEY}(,{DETACH_KEY})*", keys):
            raise forms.ValidationError(
                "Write keys as the docker CLI does: ctrl-<letter> or one character, e.g. ctrl-p,ctrl-q."
            )
        return keys

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("auto_remove") and data.get("restart_policy", "no") != "no":
            self.add_error("auto_remove", "--rm cannot be combined with a restart policy: choose one.")
        return data

    def spec(self) -> dict[str, Any]:
        """What the run job hands to the engine: the checked fields and nothing else."""
        data = self.cleaned_data
        policy = {"Name": data["restart_policy"]}
        if data["restart_policy"] == "on-failure":
            policy["MaximumRetryCount"] = data["max_retries"]
        volumes = [v for v in data["volumes"] if not _is_host_path(v["source"])]
        path_binds = [
            f"{v['source']}:{v['target']}{':ro' if v['read_only'] else ''}"
            for v in data["volumes"]
            if _is_host_path(v["source"])
        ]
        return {
            "image": data["image"],
            "name": data["name"],
            "command": data["command"],
            "environment": data["environment"],
            "ports": data["ports"],
            "volumes": volumes,
            "restart_policy": policy,
            "auto_remove": data["auto_remove"],
            "follow": data["follow"] and not data["interactive"],
            "tty": data["interactive"],
            "detach_keys": data["detach_keys"],
            "privileged": data["privileged"],
            "binds": data["binds"] + path_binds,
            "mounts": data["mounts"],
            "network_mode": data["network_mode"],
            "pid_mode": data["pid_mode"],
            "ipc_mode": data["ipc_mode"],
            "uts_mode": data["uts_mode"],
            "cap_add": data["cap_add"],
            "devices": data["devices"],
            "security_opt": data["security_opt"],
            "sysctls": data["sysctls"],
        }
