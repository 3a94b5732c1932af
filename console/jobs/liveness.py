"""Which Celery workers are alive, without asking them: each worker writes a heartbeat into Redis beside the
snapshot (its name, the queues it serves, when), every JOB_HEARTBEAT_SECONDS; one silent for three beats is down.
A worker that stops cleanly removes its own at once. The System page reads them in one Redis round trip."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings

from console import snapshot

KEY = "console:workers"  # a hash: worker name -> its last heartbeat


@dataclass(frozen=True)
class Worker:
    name: str
    queues: list[str]
    age: float  # seconds since its last heartbeat


def silent_after() -> float:
    return 3 * settings.JOB_HEARTBEAT_SECONDS


def beat(name: str, queues: list[str]) -> None:
    beat = {"queues": queues, "pid": os.getpid(), "at": time.time()}
    snapshot.connection().hset(KEY, name, json.dumps(beat))


def gone(name: str) -> None:
    with contextlib.suppress(redis.RedisError):
        snapshot.connection().hdel(KEY, name)


def keep_beating(name: str, queues: list[str], stop: threading.Event) -> None:
    """The worker's beat, in a thread of its main process, until `stop`; a Redis hiccup skips a beat."""
    while True:
        with contextlib.suppress(redis.RedisError):  # the worker outlives a Redis restart
            beat(name, queues)
        if stop.wait(settings.JOB_HEARTBEAT_SECONDS):
            return


def alive() -> list[Worker]:
    """The workers heard from within `silent_after()` seconds, by name; those silent for long are forgotten."""
    r = snapshot.connection()
    now, found, forgotten = time.time(), [], []
    for name, raw in sorted(r.hgetall(KEY).items()):
        heard = json.loads(raw)
        age = now - heard["at"]
        if age < silent_after():
            found.append(Worker(name, heard["queues"], age))
        elif age > 10 * silent_after():
            forgotten.append(name)
    if forgotten:
        r.hdel(KEY, *forgotten)
    return found
