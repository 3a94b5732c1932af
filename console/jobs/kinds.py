"""The one way to register a job kind: `@job_kind(name, progress=template)` in a feature app's `job_kinds.py`.

The jobs app imports every `job_kinds.py` when Django starts (`JobsConfig.ready`), so web
processes, workers and the watcher all know every kind, whatever they imported first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_ROW = "jobs/_progress.html"


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Callable[[Any], dict | None]
    progress: str = ""  # the kind's live part of the job page
    row: str = DEFAULT_ROW  # its progress cell in the jobs list


KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, progress: str = "", row: str = DEFAULT_ROW):
    """Register `handler(ctx: JobContext) -> dict | None` as the kind `name`; it reports progress through ctx."""

    def register(handler: Callable[[Any], dict | None]):
        KINDS[name] = JobKind(name, handler, progress, row)
        return handler

    return register


def get(name: str) -> JobKind | None:
    return KINDS.get(name)
