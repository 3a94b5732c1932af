"""`docker info` and `docker version`, grouped and worded so a person can read them."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import Any

import console
from console import engine
from console.templatetags.console_tags import binary_size


@dataclass(frozen=True)
class Section:
    title: str
    slug: str
    rows: list[tuple[str, str]]


def listing(items: list[str]) -> str:
    return ", ".join(items) or "none"


def yes_no(value: Any) -> str:
    if isinstance(value, str):
        value = value.lower() == "true"
    return "yes" if value else "no"


def security_options(options: list[str]) -> list[str]:
    """`name=seccomp,profile=default` → `seccomp (profile: default)`, as docker info words it."""
    described = []
    for option in options or []:
        parts = dict(p.split("=", 1) if "=" in p else (p, "") for p in option.split(","))
        name = parts.pop("name", option)
        extra = ", ".join(f"{k}: {v}" for k, v in parts.items())
        described.append(f"{name} ({extra})" if extra else name)
    return described


def insecure_registries(registry: dict[str, Any]) -> list[str]:
    """What docker info lists: registries marked insecure, then insecure address ranges."""
    names = [name for name, index in (registry.get("IndexConfigs") or {}).items() if not index.get("Secure", True)]
    return names + list(registry.get("InsecureRegistryCIDRs") or [])


def info_sections(info: dict[str, Any]) -> list[Section]:
    registry = info.get("RegistryConfig") or {}
    return [
        Section(
            "Containers and images",
            "info-counts",
            [
                ("Containers", str(info.get("Containers", 0))),
                ("Running", str(info.get("ContainersRunning", 0))),
                ("Paused", str(info.get("ContainersPaused", 0))),
                ("Stopped", str(info.get("ContainersStopped", 0))),
                ("Images", str(info.get("Images", 0))),
            ],
        ),
        Section(
            "Engine",
            "info-engine",
            [
                ("Server version", info.get("ServerVersion", "")),
                ("Name", info.get("Name", "")),
                ("ID", info.get("ID", "")),
                ("Root directory", info.get("DockerRootDir", "")),
                ("Debug mode", yes_no(info.get("Debug"))),
                ("Experimental", yes_no(info.get("ExperimentalBuild"))),
                ("Live restore", yes_no(info.get("LiveRestoreEnabled"))),
            ],
        ),
        Section(
            "Storage and logging",
            "info-storage",
            [
                ("Storage driver", info.get("Driver", "")),
                *[(str(k), str(v)) for k, v in info.get("DriverStatus") or []],
                ("Logging driver", info.get("LoggingDriver", "")),
            ],
        ),
        Section(
            "Runtimes and isolation",
            "info-runtime",
            [
                ("Cgroup driver", info.get("CgroupDriver", "")),
                ("Cgroup version", str(info.get("CgroupVersion", ""))),
                ("Runtimes", listing(sorted(info.get("Runtimes") or {}))),
                ("Default runtime", info.get("DefaultRuntime", "")),
                ("Init binary", info.get("InitBinary", "")),
                ("Security options", listing(security_options(info.get("SecurityOptions")))),
            ],
        ),
        Section(
            "Host",
            "info-host",
            [
                ("Kernel version", info.get("KernelVersion", "")),
                ("Operating system", info.get("OperatingSystem", "")),
                ("OS type", info.get("OSType", "")),
                ("Architecture", info.get("Architecture", "")),
                ("CPUs", str(info.get("NCPU", ""))),
                ("Total memory", binary_size(info.get("MemTotal"))),
            ],
        ),
        Section(
            "Registries",
            "info-registries",
            [
                ("Insecure registries", listing(insecure_registries(registry))),
                ("Registry mirrors", listing(list(registry.get("Mirrors") or []))),
            ],
        ),
    ]


def version_sections(version: dict[str, Any], negotiated: str) -> list[Section]:
    components = [c for c in version.get("Components") or [] if c.get("Name") != "Engine"]
    server = next((c.get("Details") or {} for c in version.get("Components") or [] if c.get("Name") == "Engine"), {})
    return [
        Section(
            "Server: Docker Engine",
            "version-server",
            [
                ("Version", version.get("Version", "")),
                (
                    "API version",
                    f"{version.get('ApiVersion', '')} (minimum version {version.get('MinAPIVersion', '')})",
                ),
                ("Go version", version.get("GoVersion", "")),
                ("Git commit", version.get("GitCommit", "")),
                ("Built", version.get("BuildTime", "")),
                ("OS/Arch", f"{version.get('Os', '')}/{version.get('Arch', '')}"),
                ("Experimental", yes_no(version.get("Experimental", server.get("Experimental")))),
            ],
        ),
        Section(
            "Components",
            "version-components",
            [
                (
                    c.get("Name", "?"),
                    f"{c.get('Version', '')} (git commit {(c.get('Details') or {}).get('GitCommit') or 'none'})",
                )
                for c in components
            ],
        ),
        Section(
            "Client: Docker Console",
            "version-client",
            [
                ("Console version", console.__version__),
                ("Docker SDK for Python", engine.sdk_version()),
                ("API version negotiated", negotiated),
                ("Python", platform.python_version()),
            ],
        ),
    ]
