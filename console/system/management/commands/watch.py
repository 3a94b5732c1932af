"""`manage.py watch`: one watcher per engine (see console/system/watcher.py), following the Engine table.

An added engine is followed and a removed one dropped within seconds, without restarting anything. One
watcher per engine across every host, enforced: a watcher holds a Redis lock (`console:<engine>:watcher:lock`,
redis-py's Lock) and renews it every few seconds. A second watcher of the same engine waits until the first
stops (or has been gone for LOCK_TTL seconds), then takes over; one that finds its lock taken stops.
"""

import contextlib
import contextvars
import os
import signal
import socket
import threading
import uuid

import redis
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from redis.exceptions import LockError

from console import engine, snapshot
from console.engines.supervise import supervise
from console.system.watcher import Watcher

LOCK_TTL = 15
STOP_WAIT = 8  # seconds a watcher thread has to stop: within `docker stop`'s 10 s grace


class EngineWatcher:
    """A thread that waits for its engine's lock, then watches it until told to stop or the lock is lost."""

    def __init__(self, name: str, say) -> None:
        self.name, self.say = name, say
        # Who holds an engine's lock, as the lock's value: which host and process watches it.
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"watch-{name}", daemon=True)
        self.thread.start()

    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        self.stop_event.set()
        # A thread still reading a hung engine after this is a daemon: the process ends without it, and its
        # lock expires on its own (LOCK_TTL).
        self.thread.join(timeout=STOP_WAIT)

    def run(self) -> None:
        with engine.using(self.name):
            try:
                self.watch()
            finally:
                close_old_connections()

    def watch(self) -> None:
        lock = snapshot.connection().lock(snapshot.key("watcher", "lock"), timeout=LOCK_TTL, thread_local=False)
        told = False
        while not self.stop_event.is_set():
            try:
                if lock.acquire(blocking=False, token=self.me):
                    break
            except redis.RedisError as exc:
                self.say(f"{self.name}: Redis does not answer ({exc}); waiting.")
            if not told:
                holder = snapshot.connection().get(snapshot.key("watcher", "lock")) or "?"
                self.say(f"Another watcher of the engine {self.name} runs ({holder}); waiting until it stops.")
                told = True
            self.stop_event.wait(1)
        else:
            return
        self.say(f"Watching the engine {self.name} at {engine.address()}")
        keeper = threading.Thread(target=contextvars.copy_context().run, args=(self.keep, lock), daemon=True)
        keeper.start()
        try:
            Watcher(self.stop_event).run()
        finally:
            with contextlib.suppress(LockError, redis.RedisError):  # lost, or it expires on its own
                lock.release()
        self.say(f"Stopped watching the engine {self.name}.")

    def keep(self, lock) -> None:
        """Renew the lock while the watcher runs; stop it if another watcher has taken the lock."""
        while not self.stop_event.wait(LOCK_TTL / 3):
            try:
                lock.reacquire()
            except LockError:
                self.say(f"Another watcher took over the engine {self.name}; this one stops.")
                self.stop_event.set()
            except redis.RedisError:
                continue  # the watcher reports Redis failures itself; the lock is renewed once it answers


class Command(BaseCommand):
    help = "Follow every engine's events, keep the shared snapshots in Redis, and run the console's timers."

    def add_arguments(self, parser):
        parser.add_argument("--engine", action="append", help="watch only this engine (repeatable)")

    def handle(self, *args, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        only = set(options["engine"]) if options["engine"] else None
        supervise(lambda name: EngineWatcher(name, self.say), stop, only)
        self.say("Watchers stopped.")

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
