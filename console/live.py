"""Live partials that answer "nothing changed" (204) without rendering, from a cheap token.

A page renders its token into `hx-vals`; each poll sends it back. The token names the snapshot's
version and the last change to jobs and the audit trail, and the minute (so "3 minutes ago"
moves on). Version 0 means no watcher keeps the snapshot: the partial then always renders.
"""

from __future__ import annotations

import time

from django.db.models import Max, Q, Sum
from django.http import HttpRequest

from console.audit.models import AuditEvent
from console.jobs.models import Job


def jobs_token() -> str:
    """Changes whenever a job is created, reports progress, or ends."""
    seen = Job.objects.aggregate(
        last=Max("id"), ended=Max("finished"), moving=Sum("revision", filter=~Q(state__in=Job.TERMINAL))
    )
    ended = seen["ended"].timestamp() if seen["ended"] else 0
    return f"{seen['last'] or 0}.{ended}.{seen['moving'] or 0}"


def audit_token() -> str:
    return str(AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0)


def token(snapshot_version: int | None, *parts: str) -> str:
    """The live token, or "" when it cannot vouch for the content (nothing keeps the snapshot)."""
    if snapshot_version == 0:
        return ""
    return "-".join([str(snapshot_version or ""), *parts, str(int(time.time() // 60))])


def unchanged(request: HttpRequest, current: str) -> bool:
    return bool(current) and request.GET.get("v") == current
