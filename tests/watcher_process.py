"""The watcher (`manage.py watch`) as a real process on the test database, and a clean snapshot."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from tests.conftest import ConsoleCommand, wait_until


class WatcherProcess(ConsoleCommand):
    def __init__(self, **env: str):
        super().__init__([sys.executable, "manage.py", "watch"], "watcher", **env)

    def wait_following(self) -> dict:
        """Until its heartbeat says it follows the engine (it has listed everything by then)."""
        from console import snapshot

        def following():
            assert self.proc.poll() is None, "the watcher stopped:\n" + self.output()
            status = snapshot.watcher()
            return status if status and status.get("connected") and status.get("pid") == self.proc.pid else None

        try:
            return wait_until(following, timeout=60, message="the watcher to follow the engine")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the watcher said:\n{self.output()}") from None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)
        self.log.close()


def clear_snapshot() -> None:
    from console import snapshot

    r = snapshot.connection()
    for key in r.scan_iter(snapshot.key("*")):
        r.delete(key)


@pytest.fixture
def clean_snapshot():
    """No snapshot, no watcher heartbeat, no dedupe keys — before and after the test."""
    clear_snapshot()
    yield
    clear_snapshot()


@pytest.fixture
def start_watcher(transactional_db, clean_snapshot):
    """Start watchers (real processes) on the test database; all are stopped after the test."""
    started: list[WatcherProcess] = []

    def start(**env: str) -> WatcherProcess:
        watcher = WatcherProcess(**env)
        started.append(watcher)
        return watcher

    yield start
    for watcher in started:
        watcher.stop()


# --- the fleet: one `manage.py watch` over the lab's three engines ---------------------------------


def clear_fleet_snapshot() -> None:
    from console import snapshot

    r = snapshot.connection()
    for key in r.scan_iter("console:*"):
        r.delete(key)


@pytest.fixture
def watch(transactional_db, fleet):
    """`manage.py watch` (a real process on the test database) over the lab's three engines; a clean snapshot."""
    clear_fleet_snapshot()
    watcher = WatcherProcess()
    yield watcher
    watcher.stop()
    clear_fleet_snapshot()


def status_of(name: str) -> dict | None:
    from console import engine, snapshot

    with engine.using(name):
        return snapshot.watcher()


def following(watcher: WatcherProcess, *names: str, timeout: float = 60) -> dict:
    def all_connected():
        assert watcher.proc.poll() is None, "the watcher stopped:\n" + watcher.output()
        found = {name: status_of(name) for name in names}
        return (
            found
            if all(s and s.get("connected") and s.get("pid") == watcher.proc.pid for s in found.values())
            else None
        )

    try:
        return wait_until(all_connected, timeout=timeout, message=f"watchers of {', '.join(names)} to follow")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the watcher said:\n{watcher.output()}") from None
