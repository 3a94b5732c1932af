"""Disk use as the last `system.df` job found it: pages never ask the engine (it walks every filesystem)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console import engine
from console.jobs.models import Job

KIND = "system.df"


@dataclass(frozen=True)
class DiskUse:
    computed: datetime
    job_id: int
    rows: list[dict[str, Any]]
    scale: int  # the bars' common maximum: the largest size

    @property
    def size(self) -> int:
        return sum(row.get("size", 0) for row in self.rows)

    @property
    def reclaimable(self) -> int:
        return sum(row.get("reclaimable", 0) for row in self.rows)


def last_disk_usage() -> DiskUse | None:
    job = (
        Job.objects.filter(kind=KIND, engine=engine.current(), state=Job.State.SUCCEEDED)
        .order_by("-finished")
        .only("pk", "finished", "result")
        .first()
    )
    if job is None or not job.result.get("rows"):
        return None
    rows = job.result["rows"]
    return DiskUse(job.finished, job.pk, rows, max([row.get("size", 0) for row in rows] + [1]))
