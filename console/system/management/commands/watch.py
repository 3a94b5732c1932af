"""`manage.py watch`: the one watcher of this console's engine (see console/system/watcher.py).

One per engine, enforced: a watcher holds a lock in Redis (`console:<engine>:watcher:lock`) and renews it
every few seconds. A second watcher of the same engine says who holds it and waits until the first stops
(or has been gone for LOCK_TTL seconds), then takes over; a watcher that finds the lock taken by another
stops, so the two never follow one engine at once.
"""

import contextlib
import os
import signal
import socket
import threading
import uuid

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console import snapshot
from console.system.watcher import Watcher

LOCK_TTL = 15
# The lock's holder after a claim: ours when it was free or already ours (the claim renews it).
CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
"""
RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end"


class WatcherLock:
    def __init__(self) -> None:
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.key = snapshot.key("watcher", "lock")
        self.lost_to: str | None = None

    def claim(self) -> str:
        return snapshot.connection().eval(CLAIM, 1, self.key, self.me, LOCK_TTL)

    def wait(self, stop: threading.Event, say) -> bool:
        """Until the lock is ours (True) or the watcher is told to stop (False)."""
        told = None
        while not stop.is_set():
            try:
                holder = self.claim()
            except redis.RedisError as exc:
                holder = f"Redis at {settings.REDIS_URL} does not answer ({exc})"
            if holder == self.me:
                return True
            if holder != told:
                say(f"Another watcher of the engine {settings.ENGINE_NAME} runs ({holder}); waiting until it stops.")
                told = holder
            stop.wait(1)
        return False

    def keep(self, stop: threading.Event) -> None:
        """Renew the lock while the watcher runs; stop it if another watcher has taken the lock."""
        while not stop.wait(LOCK_TTL / 3):
            try:
                holder = self.claim()
            except redis.RedisError:
                continue  # the watcher itself reports Redis failures; the lock is renewed once it answers
            if holder != self.me:
                self.lost_to = holder
                stop.set()

    def release(self) -> None:
        with contextlib.suppress(redis.RedisError):  # else it expires on its own
            snapshot.connection().eval(RELEASE, 1, self.key, self.me)


class Command(BaseCommand):
    help = "Follow the engine's events, keep the shared snapshot in Redis, and run the console's timers."

    def handle(self, *args, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        lock = WatcherLock()
        if not lock.wait(stop, self.say):
            return
        self.say(f"Watching the engine {settings.ENGINE_NAME} at {settings.DOCKER_HOST}")
        threading.Thread(target=lock.keep, args=(stop,), daemon=True).start()
        try:
            Watcher(stop).run()
        finally:
            lock.release()
        if lock.lost_to:
            raise CommandError(f"Another watcher ({lock.lost_to}) took over the engine {settings.ENGINE_NAME}.")
        self.say("Watcher stopped.")

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
