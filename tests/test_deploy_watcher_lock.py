"""Exactly one watcher per engine: a second `manage.py watch` of the same engine waits for the first."""

from __future__ import annotations

from console import snapshot
from tests.conftest import wait_until

pytest_plugins = ["tests.watcher_process"]


def test_it_makes_a_second_watcher_of_the_engine_wait_until_the_first_stops(start_watcher):
    first = start_watcher()
    first.wait_following()
    second = start_watcher()
    wait_until(lambda: "waiting until it stops" in second.output(), message="the second watcher to wait")
    assert second.proc.poll() is None
    assert "Watching the engine" not in second.output()
    assert snapshot.watcher()["pid"] == first.proc.pid
    first.stop()
    second.wait_following()
    assert "Watching the engine" in second.output()
