"""The engine itself: ping, info, version, disk use, and the raw lists the snapshot keeps."""

from __future__ import annotations

import functools
import time
from typing import Any

import docker

from console.engine.core import call


def ping() -> float:
    """Seconds the engine took to answer /_ping."""
    started = time.monotonic()
    call(lambda c: c.ping())
    return time.monotonic() - started


def api_version() -> str:
    return call(lambda c: c.api.api_version)


def disk_usage() -> dict[str, Any]:
    """`docker system df`: slow on busy hosts, so only jobs call it."""
    raw = call(lambda c: c.df())
    images = raw.get("Images") or []
    containers = raw.get("Containers") or []
    volumes = raw.get("Volumes") or []
    cache = raw.get("BuildCache") or []
    image_size = sum(i.get("Size", 0) for i in images)
    image_shared = sum(max(i.get("SharedSize", 0), 0) for i in images)
    unused_images = sum(i.get("Size", 0) - max(i.get("SharedSize", 0), 0) for i in images if not i.get("Containers"))
    container_size = sum(c.get("SizeRw", 0) or 0 for c in containers)
    container_reclaim = sum(c.get("SizeRw", 0) or 0 for c in containers if c.get("State") != "running")
    volume_size = sum((v.get("UsageData") or {}).get("Size", 0) or 0 for v in volumes)
    volume_reclaim = sum(
        (v.get("UsageData") or {}).get("Size", 0) or 0
        for v in volumes
        if not (v.get("UsageData") or {}).get("RefCount")
    )
    cache_size = sum(b.get("Size", 0) for b in cache)
    cache_reclaim = sum(b.get("Size", 0) for b in cache if not b.get("InUse"))
    return {
        "layers_size": raw.get("LayersSize", 0),
        # Each volume's size (-1: the engine could not tell), for the volumes page.
        "volumes": {v["Name"]: (v.get("UsageData") or {}).get("Size", -1) for v in volumes if v.get("Name")},
        "rows": [
            {
                "type": "Images",
                "total": len(images),
                "active": sum(1 for i in images if i.get("Containers")),
                "size": raw.get("LayersSize", image_size),
                "reclaimable": max(unused_images, 0),
                "shared": image_shared,
            },
            {
                "type": "Containers",
                "total": len(containers),
                "active": sum(1 for c in containers if c.get("State") == "running"),
                "size": container_size,
                "reclaimable": container_reclaim,
            },
            {
                "type": "Local Volumes",
                "total": len(volumes),
                "active": sum(1 for v in volumes if (v.get("UsageData") or {}).get("RefCount")),
                "size": volume_size,
                "reclaimable": volume_reclaim,
            },
            {
                "type": "Build Cache",
                "total": len(cache),
                "active": sum(1 for b in cache if b.get("InUse")),
                "size": cache_size,
                "reclaimable": cache_reclaim,
            },
        ],
    }


def raw_listing(kind: str) -> Any:
    """One of the lists the snapshot keeps, as plain JSON from the engine."""
    fetch = {
        "containers": lambda c: c.api.containers(all=True),
        "images": lambda c: c.api.images(),
        "info": lambda c: c.info(),
        "version": lambda c: c.version(),
        "networks": lambda c: c.api.networks(),
        "volumes": lambda c: c.api.volumes(),
    }[kind]
    return call(fetch)


@functools.cache
def sdk_version() -> str:
    return docker.__version__
