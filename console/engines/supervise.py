"""Follow the Engine table: one piece of work per engine (a watcher thread, a worker process), started when
an engine is added, stopped when it is removed, restarted when it ended on its own, without restarting
anything else."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from django.db import close_old_connections

from console.engines.models import Engine

log = logging.getLogger("console.supervise")
POLL_SECONDS = 2.0


class Part(Protocol):
    def alive(self) -> bool: ...

    def stop(self) -> None: ...


def engine_names() -> set[str]:
    close_old_connections()  # a supervisor lives for days: never keep a dead database connection
    Engine.objects.ensure_environment()
    return set(Engine.objects.values_list("name", flat=True))


def supervise(start: Callable[[str], Part], stop: threading.Event, only: set[str] | None = None) -> None:
    """Keep one `start(name)` part per engine (or per engine in `only`) until `stop` is set; then stop all."""
    parts: dict[str, Part] = {}
    try:
        while not stop.is_set():
            try:
                wanted = engine_names()
            except Exception as exc:  # the database may be restarting: keep what runs, try again
                log.warning("cannot read the engines: %s", exc)
                wanted = set(parts)
            if only is not None:
                wanted &= only
            for name in sorted(set(parts) - wanted):
                log.info("engine %s was removed: stopping its part", name)
                parts.pop(name).stop()
            for name in sorted(wanted):
                if name not in parts or not parts[name].alive():
                    parts[name] = start(name)
            stop.wait(POLL_SECONDS)
    finally:
        # Every part at once: one slow to stop (a job finishing, a stream that hangs) does not hold up the
        # others, and the whole stops within one part's grace (what `docker stop` allows before it kills).
        stopping = [threading.Thread(target=part.stop) for part in parts.values()]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
