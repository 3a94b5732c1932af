"""The console's answer to `systemctl status docker`: each part green or red, with the reason."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from django.db import connection

from console import engine, snapshot
from console.jobs import liveness
from console.jobs.runner import queue_of


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _engine() -> Check:
    try:
        latency = engine.ping()
    except engine.EngineError as exc:
        return Check("Engine", False, exc.message)
    return Check("Engine", True, f"reachable at {engine.address()}; ping answered in {latency * 1000:.1f} ms")


def _database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return Check("Database", False, f"{connection.vendor}: {exc}")
    return Check("Database", True, f"{connection.vendor} answers")


def _redis() -> Check:
    started = time.monotonic()
    try:
        snapshot.connection().ping()
    except redis.RedisError as exc:
        return Check("Redis", False, f"no answer at {_redis_address()}: {exc}")
    return Check("Redis", True, f"answers at {_redis_address()} in {(time.monotonic() - started) * 1000:.1f} ms")


def _redis_address() -> str:
    kwargs = snapshot.connection().connection_pool.connection_kwargs
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"


def _workers(redis_ok: bool) -> Check:
    if not redis_ok:
        return Check("Celery workers", False, "cannot tell: Redis, their broker, does not answer")
    try:
        workers = liveness.alive()
    except redis.RedisError as exc:
        return Check("Celery workers", False, f"cannot tell: {exc}")
    if not workers:
        silence = f"none has been heard from in {liveness.silent_after():.0f} s"
        return Check("Celery workers", False, f"{silence}: queued jobs will wait")
    queue = queue_of(engine.current())
    listing = "; ".join(f"{w.name}: {', '.join(w.queues)} (heard {w.age:.0f} s ago)" for w in workers)
    if not any(queue in w.queues for w in workers):
        return Check("Celery workers", False, f"no worker serves the queue {queue} ({listing})")
    return Check("Celery workers", True, f"{len(workers)} alive — {listing}")


def _watcher(redis_ok: bool) -> Check:
    if not redis_ok:
        return Check("Watcher", False, "cannot tell: Redis does not answer")
    status = snapshot.watcher()
    if status is None:
        return Check("Watcher", False, "not running: pages ask the engine themselves (start `manage.py watch`)")
    if not status.get("connected"):
        return Check("Watcher", False, f"running (pid {status.get('pid')}) but not following the engine: "
                     f"{status.get('error', '')}")  # fmt: skip
    listed = status.get("listed")
    age = f"; last full listing {time.time() - listed:.0f} s ago" if listed else ""
    return Check("Watcher", True, f"following the engine's events (pid {status.get('pid')}){age}")


def checks() -> list[Check]:
    """Every part of the console, each one asked on its own so one failure never hides another."""
    redis_check = _redis()
    return [
        _engine(),
        _database(),
        redis_check,
        _workers(redis_check.ok),
        _watcher(redis_check.ok),
    ]
