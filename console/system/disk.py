"""Disk use as the last `system.df` job found it: pages never ask the engine (it walks every filesystem)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Max, Q

from console import engine
from console.jobs.models import Job

KIND = "system.df"


@dataclass(frozen=True)
class DiskUse:
    computed: datetime
    job_id: int
    rows: list[dict[str, Any]]
    scale: int  # the bars' common maximum: the largest size
    volumes: dict[str, int] = field(default_factory=dict)  # each volume's size (-1: the engine could not tell)

    @property
    def size(self) -> int:
        return sum(row.get("size", 0) for row in self.rows)

    @property
    def reclaimable(self) -> int:
        return sum(row.get("reclaimable", 0) for row in self.rows)


def last_disk_usage() -> DiskUse | None:
    return last_disk_usages([engine.current()]).get(engine.current())


def last_disk_usages(engine_names: list[str]) -> dict[str, DiskUse]:
    """Each engine's last disk use, in two queries whatever the number of engines (the fleet page)."""
    done = Job.objects.filter(kind=KIND, engine__in=engine_names, state=Job.State.SUCCEEDED)
    last = done.values("engine").annotate(last=Max("finished")).values_list("engine", "last")
    wanted = Q()
    for name, finished in last:
        wanted |= Q(engine=name, finished=finished)
    found: dict[str, DiskUse] = {}
    if not wanted:
        return found
    for job in done.filter(wanted).order_by("-pk").only("pk", "engine", "finished", "result"):
        rows = job.result.get("rows")
        if rows and job.engine not in found:
            scale = max([row.get("size", 0) for row in rows] + [1])
            found[job.engine] = DiskUse(job.finished, job.pk, rows, scale, job.result.get("volumes") or {})
    return found
