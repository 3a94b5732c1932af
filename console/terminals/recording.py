"""A terminal session as asciicast v2: a header line, then [seconds, "o" | "i" | "r", data] lines; bounded in size."""

from __future__ import annotations

import codecs
import hashlib
import json
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from console.audit.models import AuditEvent
from console.audit.record import record
from console.terminals.models import Recording

PURGE = "terminal.purge"


class Cast:
    def __init__(self, cols: int, rows: int, title: str) -> None:
        self.start = time.monotonic()
        header = {"version": 2, "width": cols, "height": rows, "timestamp": int(time.time()), "title": title}
        header["env"] = {"TERM": "xterm-256color"}
        self.lines = [json.dumps(header)]
        self.size = len(self.lines[0]) + 1
        self.truncated = False
        # A character may be cut between two reads: each stream is decoded as it comes.
        self._decoders = {kind: codecs.getincrementaldecoder("utf-8")(errors="replace") for kind in "oi"}

    def add(self, kind: str, data: bytes | str) -> None:
        if self.truncated:
            return
        text = data if isinstance(data, str) else self._decoders[kind].decode(data)
        if not text:
            return
        line = json.dumps([round(time.monotonic() - self.start, 6), kind, text])
        if self.size + len(line) + 1 > settings.TERMINAL_RECORDING_LIMIT:
            self.truncated = True
            note = (
                f"\r\n[the recording stops here: it reached its limit of {settings.TERMINAL_RECORDING_LIMIT} bytes]\r\n"
            )
            self.lines.append(json.dumps([round(time.monotonic() - self.start, 6), "o", note]))
            return
        self.lines.append(line)
        self.size += len(line) + 1

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def save(cast: Cast, *, engine: str, container: str, container_id: str, actor_name: str) -> Recording:
    text = cast.text()
    return Recording.objects.create(
        engine=engine,
        container=container[:500],
        container_id=container_id[:200],
        actor_name=actor_name[:150],
        cast=text,
        sha256=sha256(text),
        truncated=cast.truncated,
    )


def purge(who: str = "console") -> int:
    """Delete the recordings older than TERMINAL_RECORDING_DAYS, saying so in the audit trail (whose verify then
    knows those recordings are gone on purpose)."""
    before = timezone.now() - timedelta(days=settings.TERMINAL_RECORDING_DAYS)
    old = Recording.objects.filter(created__lt=before)
    count = old.count()
    if count:
        old.delete()
        record(who, PURGE, "terminal recordings", "succeeded", before=before.isoformat(), count=count)
    return count


def check(events) -> tuple[AuditEvent | None, str]:
    """The first terminal.close event (of those given, oldest first) whose recording was changed, or is gone
    without a purge that covers it."""
    purges = AuditEvent.objects.filter(action=PURGE, outcome="succeeded")
    purged_before = max((datetime.fromisoformat(e.params["before"]) for e in purges), default=None)
    for event in events:
        if event.action != "terminal.close" or "recording" not in event.params:
            continue
        row = Recording.objects.filter(pk=event.params["recording"]).first()
        if row is None:
            if purged_before is not None and event.created < purged_before:
                continue
            return event, "the terminal recording it names is missing (deleted without a purge)"
        if sha256(row.cast) != event.params.get("recording_sha256") or row.sha256 != event.params["recording_sha256"]:
            return event, f"the terminal recording it names ({row.pk}) was changed"
    return None, ""
