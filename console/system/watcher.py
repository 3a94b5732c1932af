"""The watcher: one process per engine follows `/events` and keeps the snapshot.

It lists everything afresh when it starts, whenever its stream reconnects and on a timer
(the engine remembers only its last 256 events), re-lists what an event touched, records
changes made outside the console, and runs the console's own timers: lost jobs are reaped
disk use (`docker system df`) is computed by a job every DISK_USAGE_INTERVAL seconds, and the engine's tags are
checked for newer images on their registries every UPDATE_CHECK_INTERVAL seconds.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from console import engine, snapshot
from console.images import updates
from console.jobs.models import Job
from console.jobs.runner import enqueue, reap_lost_jobs
from console.system import disk, outside

log = logging.getLogger("console.watcher")
LISTED = ("containers", "images", "info", "version", "events", "networks", "volumes")
# What an event of each type may have changed.
TOUCHES = {
    "container": ("containers", "info"),
    "image": ("images", "info"),
    "volume": ("volumes", "info"),
    "network": ("networks", "containers"),  # connect and disconnect change the containers' networks
}
BEAT_SECONDS = 5
# The engine logs a container's "die" before it has cleaned up (volumes, network) and written the state
# its list reads, so a listing made on the event can still say "running". What each event promises about
# the container's listed state; a listing that breaks a promise is made again until it keeps it.
PROMISES = {
    "die": lambda row: row is None or row.get("State") != "running",
    "destroy": lambda row: row is None,
    "start": lambda row: row is None or row.get("State") != "created",
    "pause": lambda row: row is None or row.get("State") == "paused",
    "unpause": lambda row: row is None or row.get("State") != "paused",
}
PROMISE_SECONDS = 60  # how long the watcher re-lists for an event's promise before it trusts the listing
RECHECK_SECONDS = 0.5
LATENCY_SECONDS = 30  # how often the heartbeat times a ping (the fleet page shows it)


@dataclass(order=True)
class Pending:
    due: float
    raw: dict[str, Any] = field(compare=False)
    tags: list[str] = field(compare=False)


@dataclass
class Every:
    """A timer: `due()` is true once per period."""

    seconds: float
    last: float = float("-inf")

    def due(self) -> bool:
        if time.monotonic() - self.last < self.seconds:
            return False
        self.last = time.monotonic()
        return True


class Watcher:
    def __init__(self, stop: threading.Event):
        self.stop = stop
        self.inbox: queue.Queue[tuple[int, str, Any]] = queue.Queue()
        self.attempt = 0
        self.stream: engine.EventStream | None = None
        self.pending: list[Pending] = []
        self.seen: deque[dict[str, Any]] = deque(maxlen=500)  # recent recorded events, for superseding
        self.images: list[dict[str, Any]] = []
        self.status: dict[str, Any] = {"pid": os.getpid(), "started": time.time(), "connected": False}
        self.relist_timer = Every(settings.WATCH_RELIST_SECONDS)
        self.reap_timer = Every(max(1, settings.JOB_LOST_AFTER_SECONDS // 4))
        self.disk_timer = Every(30)
        self.update_timer = Every(60)
        self.beat_timer = Every(BEAT_SECONDS)
        self.promises: dict[str, tuple[str, float]] = {}  # container id: (last event's action, give up at)
        self.recheck_at: float | None = None
        self.latency_timer = Every(LATENCY_SECONDS)

    # --- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        backoff = 1.0
        try:
            while not self.stop.is_set():
                try:
                    if self.connect():
                        backoff = 1.0
                        self.follow()
                        continue
                except engine.EngineError as exc:
                    self.lost(exc.message)
                except redis.RedisError as exc:
                    self.lost(f"Redis at {settings.REDIS_URL} failed: {exc}")
                self.idle(backoff)
                backoff = min(backoff * 2, 30)
        finally:
            self.disconnect()
            with contextlib.suppress(redis.RedisError):
                snapshot.stop_beating()

    def connect(self) -> bool:
        """Open the stream (from where the last one ended), then list everything afresh."""
        # Resume where the last stream ended, so what happened meanwhile is seen (once: see outside.py).
        r = snapshot.connection()
        since = r.get(snapshot.key("stream", "since"))
        if since is None:
            since = f"{time.time():.9f}"
            r.set(snapshot.key("stream", "since"), since)
        self.attempt += 1
        # The reader works on this watcher's engine too (a thread starts with an empty context).
        threading.Thread(
            target=contextvars.copy_context().run, args=(self.read, self.attempt, since), daemon=True
        ).start()
        what, value = self.next(timeout=settings.DOCKER_TIMEOUT) or ("ended", "the engine did not answer")
        if what != "connected":
            self.lost(value)
            return False
        self.relist(LISTED)
        self.status |= {"connected": True, "error": ""}
        log.info("following the engine at %s", engine.address())
        self.beat(force=True)
        return True

    def read(self, attempt: int, since: str) -> None:
        """The reader thread: the stream's events into the inbox, then why it ended."""
        try:
            stream = engine.EventStream(since)
            if attempt == self.attempt:
                self.stream = stream  # what disconnect() closes
            self.inbox.put((attempt, "connected", None))
            for event in stream:
                self.inbox.put((attempt, "event", event))
            self.inbox.put((attempt, "ended", "the engine closed its event stream"))
        except engine.EngineError as exc:
            self.inbox.put((attempt, "ended", exc.message))
        finally:
            engine.reset_client()

    def next(self, timeout: float | None) -> tuple[str, Any] | None:
        """The current stream's next message, or None when none came in time."""
        deadline = time.monotonic() + (timeout or 0)
        while True:
            try:
                attempt, what, value = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if attempt == self.attempt:  # a stream given up on may still talk
                return what, value

    def follow(self) -> None:
        while not self.stop.is_set():
            batch, ended = self.drain()
            if batch:
                self.handle(batch)
            self.judge()
            self.timers(connected=True)
            if ended is not None:
                self.lost(ended)
                return
            if self.relist_timer.due():
                self.relist(LISTED)
            elif self.recheck_at is not None and time.monotonic() >= self.recheck_at:
                self.relist(("containers", "info"))

    def drain(self) -> tuple[list[dict[str, Any]], str | None]:
        """What arrived within a second: its events, and why the stream ended (if it did)."""
        batch: list[dict[str, Any]] = []
        timeout = 1.0
        while (message := self.next(timeout)) is not None:
            what, value = message
            if what == "ended":
                return batch, value
            batch.append(value)
            timeout = 0.0
        return batch, None

    def idle(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            self.timers(connected=False)
            self.stop.wait(min(1.0, max(0.0, deadline - time.monotonic())))

    def lost(self, reason: str) -> None:
        log.warning("lost the engine at %s: %s", engine.address(), reason)
        self.disconnect()
        self.status |= {"connected": False, "error": reason}
        self.beat(force=True)

    def disconnect(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None

    # --- what events do -------------------------------------------------------------------

    def handle(self, batch: list[dict[str, Any]]) -> None:
        for raw in batch:
            if outside.recorded(raw):
                due = time.monotonic() + outside.hold(raw)
                self.pending.append(Pending(due, raw, outside.image_tags(raw, self.images)))
                self.seen.append(raw)
        snapshot.append_events(batch)
        snapshot.connection().set(snapshot.key("stream", "since"), engine.event_since(batch[-1]))
        give_up = time.monotonic() + PROMISE_SECONDS
        for raw in batch:
            if raw.get("Type") == "container" and raw.get("Action") in PROMISES:
                self.promises[(raw.get("Actor") or {}).get("ID", "")] = (raw["Action"], give_up)
        touched = {kind for raw in batch for kind in TOUCHES.get(raw.get("Type", ""), ())}
        if touched:
            self.relist(sorted(touched))

    def relist(self, kinds) -> None:
        lists = snapshot.refresh(*kinds)
        self.images = lists.get("images", self.images)
        if "containers" in lists:
            self.keep_promises(lists["containers"])
        if set(kinds) == set(LISTED):
            self.relist_timer.last = time.monotonic()  # a full listing: the timer starts again
            self.status["listed"] = time.time()

    def keep_promises(self, containers: list[dict[str, Any]]) -> None:
        """Drop the promises this listing keeps; while one is broken, list again shortly."""
        rows = {row.get("Id"): row for row in containers}
        now = time.monotonic()
        self.promises = {
            cid: (action, give_up)
            for cid, (action, give_up) in self.promises.items()
            if now < give_up and not PROMISES[action](rows.get(cid))
        }
        self.recheck_at = now + RECHECK_SECONDS if self.promises else None

    def judge(self) -> None:
        """Decide the events whose grace has passed: the console's own, or outside changes."""
        now = time.monotonic()
        due = sorted(p for p in self.pending if p.due <= now)
        if not due:
            return
        close_old_connections()
        for item in due:
            when = item.raw.get("timeNano", 0)
            later = [raw for raw in self.seen if raw.get("timeNano", 0) > when]
            # The tags an image event took away: those it had before, gone from the listing since.
            still = outside.image_tags(item.raw, self.images)
            tags = [t for t in item.tags if t not in still] or item.tags
            try:
                outside.judge(item.raw, tags, later)
            except Exception:
                log.exception("could not judge event %s; trying again", item.raw.get("Action"))
                item.due = now + 5
                continue
            self.pending.remove(item)

    # --- the console's timers -------------------------------------------------------------

    def timers(self, connected: bool) -> None:
        try:
            if self.reap_timer.due():
                close_old_connections()
                if lost := reap_lost_jobs():
                    log.warning("marked %s job(s) as lost: their worker stopped", lost)
            if connected and self.disk_timer.due():
                self.ask_for(disk.KIND, "disk usage", settings.DISK_USAGE_INTERVAL)
            if connected and self.update_timer.due():
                self.ask_for(updates.KIND, "update check", settings.UPDATE_CHECK_INTERVAL)
        except Exception:
            log.exception("a timer failed; the watcher goes on")
        self.beat()

    def ask_for(self, kind: str, target: str, interval: int) -> None:
        """Queue a job of this kind unless one was made within `interval` seconds or is still to end."""
        close_old_connections()
        jobs = Job.objects.filter(kind=kind, engine=engine.current())
        recent = timezone.now() - timedelta(seconds=interval)
        if jobs.filter(created__gte=recent).exists() or jobs.exclude(state__in=Job.TERMINAL).exists():
            return
        enqueue(None, kind, target)

    def beat(self, force: bool = False) -> None:
        if force or self.beat_timer.due():
            if not self.status.get("connected"):
                self.status.pop("latency_ms", None)
                self.latency_timer.last = float("-inf")  # timed again as soon as it is back
            elif self.latency_timer.due():
                self.status["latency_ms"] = self.latency()
            try:
                snapshot.beat(**self.status)
            except Exception:
                log.exception("could not write the watcher's heartbeat to Redis")

    def latency(self) -> float | None:
        """Milliseconds the engine took to answer a ping; None when it did not."""
        try:
            return round(engine.ping() * 1000, 1)
        except engine.EngineError:
            return None
