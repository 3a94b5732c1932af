"""The engine's event stream (`docker events`), for the watcher and the live feed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from console.engine.core import call, close_stream, errors


@dataclass(frozen=True)
class EventRow:
    time: datetime
    type: str
    action: str
    actor_id: str
    name: str
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return self.actor_id.removeprefix("sha256:")[:12]

    @property
    def details(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.attributes.items()) if k != "name")


def event_row(raw: dict[str, Any]) -> EventRow:
    actor = raw.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    nanos = raw.get("timeNano") or raw.get("time", 0) * 1_000_000_000
    return EventRow(
        time=datetime.fromtimestamp(nanos / 1e9, UTC),
        type=raw.get("Type", ""),
        # exec actions carry their command after a colon: "exec_start: sh -c …"
        action=raw.get("Action", "").partition(":")[0],
        actor_id=actor.get("ID", ""),
        name=attributes.get("name", ""),
        attributes=attributes,
    )


def event_since(raw: dict[str, Any]) -> str:
    """An event's time as the API's `since` wants it (seconds.nanoseconds)."""
    nanos = int(raw.get("timeNano") or raw.get("time", 0) * 1_000_000_000)
    return f"{nanos // 1_000_000_000}.{nanos % 1_000_000_000:09d}"


def recent_events() -> list[dict[str, Any]]:
    """What the engine still remembers (its last 256 events), newest first."""
    until = str(int(time.time()) + 1)
    return list(reversed(call(lambda c: list(c.api.events(since="1", until=until, decode=True)))))


class EventStream:
    """`docker events` as it happens; `close()` from another thread ends the iteration."""

    def __init__(self, since: str | None = None):
        self._stream = call(lambda c: c.api.events(since=since, decode=True))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        with errors():
            yield from self._stream

    def close(self) -> None:
        close_stream(self._stream)
