"""Changes made outside the console, as the watcher sees them in the engine's event stream.

Each is written to the audit trail once, with the actor "outside the console". An event the
console itself caused is recognised by the console's own audit trail: every console action
is recorded there — its request before it touches the engine, or its outcome right after (the
watcher waits a few seconds before judging an event) — and a job keeps its target, parameters
and result while it runs. An event whose object one of those names, around the event's time,
and is of a kind that action causes (CAUSES: a console "pause" causes a pause, not an unpause),
is the console's. This needs nothing from the code that performs the actions, and what it
consults is the very record that must not be doubled. The price: the same change made in a
shell to the same object within two minutes of the console making it is taken for the console's.
Duplicates (a watcher replaying the stream after a reconnect or restart) are stopped by a
Redis key per event.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.db.models import Q

from console import snapshot
from console.audit.models import AuditEvent
from console.audit.record import OUTSIDE, record
from console.engine import EventRow, current, event_row
from console.jobs.models import Job

# The actions that change something; attach, die, exec_create, health_status, … only follow from them.
RECORDED = {
    "container": {
        "create", "start", "restart", "stop", "kill", "pause", "unpause", "rename",
        "update", "destroy", "commit", "exec_start", "extract-to-dir", "prune",
    },
    "image": {"pull", "push", "tag", "untag", "delete", "import", "load", "prune"},
    "volume": {"create", "destroy", "prune"},
    "network": {"create", "destroy", "prune"},
}  # fmt: skip
# An event followed by one of these for the same object is part of it (`docker stop` kills first;
# `docker rmi` untags, then deletes), and docker stop waits up to 10 s before it kills for good.
SUPERSEDED_BY = {("container", "kill"): {"stop", "destroy"}, ("image", "untag"): {"delete"}}
HOLD = {("container", "kill"): 15.0}
GRACE = 3.0  # seconds to wait for the console's own "succeeded" record before judging an event
CONSOLE_WINDOW = timedelta(minutes=2)
KEEP_DEDUP = 3 * 24 * 3600
PARAMS = ("image", "name", "signal", "exitCode", "container")
# The engine events a console action (by the last word of its name) may cause; other actions may cause any.
CAUSES = {
    "pull": {"pull"},
    "tag": {"tag"},
    "remove": {"untag", "delete", "kill", "stop", "destroy"},
    "prune": {"prune", "untag", "delete", "destroy"},
    "run": {"pull", "create", "start", "kill", "stop", "destroy"},
    "start": {"start"},
    "stop": {"kill", "stop"},
    "restart": {"kill", "stop", "start", "restart"},
    "kill": {"kill"},
    "pause": {"pause"},
    "unpause": {"unpause"},
    "rename": {"rename"},
    "exec": {"exec_start"},
}
_HEX = re.compile(r"^[0-9a-f]{12,64}$")


def recorded(raw: dict[str, Any]) -> bool:
    row = event_row(raw)
    return row.action in RECORDED.get(row.type, ())


def hold(raw: dict[str, Any]) -> float:
    row = event_row(raw)
    return HOLD.get((row.type, row.action), GRACE)


def _forms(token: str) -> set[str]:
    """The ways one reference or id may be written."""
    token = token.strip("\"'()[]{},;")
    if not token:
        return set()
    forms = {token}
    if token.startswith("sha256:"):
        forms.add(token.removeprefix("sha256:"))
    ref = token.removeprefix("docker.io/").removeprefix("library/")
    forms.add(ref)
    if "@" not in ref and ":" not in ref.rsplit("/", 1)[-1]:
        forms.add(f"{ref}:latest")
    return forms


def image_tags(raw: dict[str, Any], images: list[dict[str, Any]]) -> list[str]:
    """The tags an image event's image had in the last listing (before an untag or delete took them)."""
    row = event_row(raw)
    if row.type != "image":
        return []
    return [t for image in images if image.get("Id") == row.actor_id for t in image.get("RepoTags") or []]


def identifiers(raw: dict[str, Any], tags: list[str]) -> tuple[set[str], set[str]]:
    """The names of the object the event changed, and of objects it came from (a container's image)."""
    row = event_row(raw)
    if row.type == "image" and row.action == "tag":
        own, related = {row.name}, {row.actor_id, *tags}
    elif row.type == "image":
        own, related = {row.actor_id, *tags}, set()
    else:
        own, related = {row.actor_id, row.name}, {row.attributes.get("image", "")}
    return _all_forms(own), _all_forms(related)


def _all_forms(names: set[str]) -> set[str]:
    return {form for name in names if name for form in _forms(name)}


def _matches(said: str, names: set[str]) -> bool:
    for token in re.split(r"[\s,]+", said):
        for form in _forms(token):
            if form in names:
                return True
            if _HEX.match(form) and any(_HEX.match(n) and n.startswith(form) for n in names):
                return True
    return False


def _said(*parts: Any) -> str:
    """Everything a console record or job names, as words: target, id, and the values of its parameters."""
    words: list[str] = []
    for part in parts:
        if isinstance(part, dict):
            words += [_said(*part.values())]
        elif isinstance(part, list | tuple):
            words += [_said(*part)]
        elif part is not None:
            words.append(str(part))
    return " ".join(words)


def _could_cause(console_action: str, event_action: str) -> bool:
    causes = CAUSES.get(console_action.rpartition(".")[2])
    return causes is None or event_action in causes


def caused_by_console(raw: dict[str, Any], own: set[str], related: set[str]) -> bool:
    """Did a console action around the event's time, of a kind that causes it, name this object; or a job
    in flight then name where it came from? An event about no object (a prune) is the console's when it did
    the same."""
    row = event_row(raw)
    # Only what the console did on this watcher's engine: a namesake on another engine caused nothing here.
    recent = (
        AuditEvent.objects.filter(engine=current(), created__gte=row.time - CONSOLE_WINDOW)
        .exclude(actor_name=OUTSIDE)
        .exclude(outcome=AuditEvent.Outcome.DENIED)
        .values_list("action", "target", "target_id", "params")
    )
    for action, target, target_id, params in recent:
        if not _could_cause(action, row.action):
            continue
        if _matches(_said(target, target_id, params), own) or (
            not row.actor_id and action == f"{row.type}.{row.action}"
        ):
            return True
    slack = timedelta(seconds=5)
    in_flight = Job.objects.filter(engine=current(), started__lte=row.time + slack).filter(
        Q(finished=None) | Q(finished__gte=row.time - slack)
    )
    return any(
        _could_cause(job.kind, row.action) and _matches(_said(job.target, job.result, job.params), own | related)
        for job in in_flight.exclude(started=None)
    )


def superseded(raw: dict[str, Any], later: list[dict[str, Any]]) -> bool:
    row = event_row(raw)
    by = SUPERSEDED_BY.get((row.type, row.action), set())
    return any(event_row(e).actor_id == row.actor_id and event_row(e).action in by for e in later)


def _target(row: EventRow, tags: list[str]) -> str:
    if row.type == "image" and row.action in ("pull", "push"):
        return row.actor_id
    if row.type == "image" and row.action == "tag":
        return row.name
    if row.type == "image":
        return ", ".join(tags) or row.short_id
    if row.type == "volume" and row.actor_id:
        return row.actor_id  # a volume's id is its name
    return row.name or row.short_id or f"{row.type}s"  # a prune names no object


def record_outside(raw: dict[str, Any], tags: list[str]) -> bool:
    """Write one outside change to the trail, unless it is already there; True when written."""
    row = event_row(raw)
    dedup = snapshot.key("outside", str(raw.get("timeNano", raw.get("time"))), row.type, row.action, row.actor_id)
    r = snapshot.connection()
    if not r.set(dedup, "1", nx=True, ex=KEEP_DEDUP):
        return False
    try:
        record(
            OUTSIDE,
            f"{row.type}.{row.action}",
            _target(row, tags),
            AuditEvent.Outcome.SUCCEEDED,
            target_id=row.actor_id,
            event_time=row.time.isoformat(),
            **{k: v for k, v in row.attributes.items() if k in PARAMS and v != row.actor_id},
        )
    except Exception:
        r.delete(dedup)
        raise
    return True


def judge(raw: dict[str, Any], tags: list[str], later: list[dict[str, Any]]) -> bool:
    """Record the event as an outside change when the console did not cause it; True when recorded."""
    if superseded(raw, later) or caused_by_console(raw, *identifiers(raw, tags)):
        return False
    return record_outside(raw, tags)
