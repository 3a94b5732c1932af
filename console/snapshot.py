"""One shared view of the engine, kept in Redis by the watcher (`manage.py watch`).

Each kind (containers, images, info, version, events) is stored with a version number
that grows whenever its content changes, so a live partial can answer "nothing changed"
from one Redis read. While a watcher follows the engine, pages read the snapshot, and a kind
that is missing or stale (a console action invalidated it, or it outlived the re-listing
timer) is listed afresh by one of them under a per-engine Redis lock — at most one listing per
engine at a time, so open browsers do not multiply the engine's work. With no watcher
following the engine (or no Redis), the snapshot is not trusted: pages ask the engine.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import time
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

from console import engine

KINDS = ("containers", "images", "info", "version", "events", "networks", "volumes")
WATCHER_TTL = 20  # seconds a watcher's heartbeat lives; it beats every few seconds
EVENTS_KEPT = 300


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5, decode_responses=True)


def connection() -> redis.Redis:
    return _client(settings.REDIS_URL)


def key(*parts: str) -> str:
    return ":".join(("console", engine.current(), *parts))


def fetch(kind: str) -> Any:
    """Ask the engine for one kind, as the snapshot keeps it."""
    if kind == "events":
        return engine.recent_events()
    return engine.raw_listing(kind)


# --- the watcher's heartbeat ----------------------------------------------------------------


def beat(**status: Any) -> None:
    """The watcher says it is alive and following the engine at its address."""
    status = {"host": engine.address(), "at": time.time(), **status}
    connection().set(key("watcher"), json.dumps(status), ex=WATCHER_TTL)


def stop_beating() -> None:
    connection().delete(key("watcher"))


def watcher() -> dict[str, Any] | None:
    """The live watcher's status for this engine, or None when none follows it."""
    raw = connection().get(key("watcher"))
    status = json.loads(raw) if raw else None
    if status is None or status.get("host") != engine.address():
        return None
    return status


def _following() -> bool:
    """A watcher is alive and its stream is connected, so the snapshot follows the engine."""
    status = watcher()
    return status is not None and bool(status.get("connected"))


def engine_problem() -> str | None:
    """What the watcher knows: "" when it follows the engine, its error, or None when no watcher runs."""
    try:
        status = watcher()
    except redis.RedisError:
        return None
    if status is None:
        return None
    return "" if status.get("connected") else status.get("error", "")


# --- store and read --------------------------------------------------------------------------


def invalidate(*kinds: str) -> None:
    """Something changed (an event, a console action): the next read of these kinds lists afresh."""
    pipe = connection().pipeline()
    for kind in kinds or KINDS:
        pipe.incr(key("kind", kind, "generation"))
    pipe.execute()


def changed() -> None:
    """A console action changed the engine: once its transaction commits, the next page lists afresh.

    The watcher sees the change in the event stream too, but the page a person lands on right
    after their action must not show the world from before it.
    """

    def invalidate_lists():
        with contextlib.suppress(redis.RedisError):  # without Redis nothing reads the snapshot
            invalidate("containers", "images", "info", "networks", "volumes")

    # After the commit: never hold the audit chain's lock while talking to Redis.
    transaction.on_commit(invalidate_lists)


def generation(kind: str) -> int:
    return int(connection().get(key("kind", kind, "generation")) or 0)


def store(kind: str, data: Any, generation: int, started: float | None = None) -> int:
    """Keep `data` as the kind's content, listed from `started` (a time) while its generation was
    `generation`; its version. A listing that started before the one kept never replaces it: two listings
    that overlapped (a lock that timed out, a slow engine) leave the newer view, whichever ends last."""
    started = time.time() if started is None else started
    payload = json.dumps(data, sort_keys=True, default=str)
    digest = hashlib.sha256(payload.encode()).hexdigest()
    entry_key = key("kind", kind)
    with connection().pipeline() as pipe:
        while True:
            try:
                pipe.watch(entry_key)
                kept_digest, kept_version, kept_started = pipe.hmget(entry_key, ["digest", "version", "started"])
                if kept_version is not None and kept_started is not None and float(kept_started) > started:
                    pipe.unwatch()
                    return int(kept_version)  # a newer listing is kept
                fields: dict[str, Any] = {
                    "stored": time.time(),
                    "started": started,
                    "host": engine.address(),
                    "generation": generation,
                }
                if kept_digest != digest or kept_version is None:
                    fields |= {"digest": digest, "data": payload, "version": pipe.incr(key("counter"))}
                    if kind == "events" and data:  # the newest alone, for the fleet page: no 300 to decode
                        fields["newest"] = json.dumps(data[0], default=str)
                pipe.multi()
                pipe.hset(entry_key, mapping=fields)
                pipe.execute()
                return int(fields.get("version") or kept_version)
            except redis.WatchError:
                continue  # another listing was stored meanwhile: look again


def _load(r: redis.Redis, kind: str, with_data: bool) -> tuple[int, Any, bool] | None:
    """(version, data, fresh) of what Redis holds for a kind, or None."""
    fields = ["version", "host", "stored", "generation"] + (["data"] if with_data else [])
    pipe = r.pipeline()
    pipe.hmget(key("kind", kind), fields)
    pipe.get(key("kind", kind, "generation"))
    (version, host, stored, listed_at, *data), current = pipe.execute()
    if version is None or host != engine.address():
        return None
    fresh = (
        # nothing changed since it was listed …
        int(listed_at) == int(current or 0)
        # … and the watcher lists everything again on a timer: much older than that is stale.
        and time.time() - float(stored) < 2 * settings.WATCH_RELIST_SECONDS + 60
    )
    return int(version), json.loads(data[0]) if with_data else None, fresh


def _entry(kind: str, with_data: bool = True) -> tuple[int, Any]:
    """The kind's (version, data): from Redis when fresh, else listed afresh under the per-engine lock."""
    r = connection()
    found = _load(r, kind, with_data)
    if found and found[2]:
        return found[:2]
    lock = _listing_lock(r)
    if not lock.acquire():
        if found:
            return found[:2]  # another listing still runs: what we have beats a second one
        raise engine.EngineError("The engine is still answering another listing; try again in a moment.")
    try:
        found = _load(r, kind, with_data)  # someone may have listed it while we waited
        if found and found[2]:
            return found[:2]
        return _list(kind)
    finally:
        lock.release()


def _listing_lock(r: redis.Redis):
    # At most one listing per engine at a time, whoever asks (the watcher or a page).
    return r.lock(key("listing"), timeout=settings.DOCKER_TIMEOUT * 2, blocking_timeout=settings.DOCKER_TIMEOUT)


def _list(kind: str) -> tuple[int, Any]:
    seen, started = generation(kind), time.time()
    data = fetch(kind)
    return store(kind, data, seen, started), data


def refresh(*kinds: str) -> dict[str, Any]:
    """List these kinds afresh and keep them (the watcher's listing); their data by kind."""
    with _listing_lock(connection()):
        return {kind: _list(kind)[1] for kind in kinds}


# What the fleet page shows of each engine, read by Redis itself in one command whatever the number of engines:
# for each engine (five keys in turn) the heartbeat, info, version, the newest event and the update check.
_FLEET_READ = """
local found = {}
for i = 1, #KEYS, 5 do
  found[#found + 1] = redis.call('GET', KEYS[i])
  found[#found + 1] = redis.call('HMGET', KEYS[i + 1], 'data', 'host', 'stored')
  found[#found + 1] = redis.call('HMGET', KEYS[i + 2], 'data', 'host')
  found[#found + 1] = redis.call('HMGET', KEYS[i + 3], 'newest', 'host')
  found[#found + 1] = redis.call('GET', KEYS[i + 4])
end
return found
"""


@functools.lru_cache(maxsize=512)
def _decoded(text: str) -> Any:
    """A stored JSON text decoded once per process while it stays the same (callers only read it)."""
    return json.loads(text)


@functools.lru_cache(maxsize=64)
def _updates_here(text: str, host: str) -> int:
    checked = json.loads(text)
    tags = (checked.get("tags") or {}).values() if checked.get("host") == host else ()
    return sum(1 for tag in tags if tag.get("state") == "available")


# A digest of what each engine's fleet row stands on, made by Redis itself (one short answer whatever the number of
# engines): whether its watcher is heard and connected and its error (not its latency, which moves on every ping),
# the versions of the kinds the row shows (and when info was listed), the update check; each counted only when kept
# for the engine's present address (ARGV, one per engine).
_FLEET_STAMP = """
local parts = {}
local function text(value) return type(value) == 'string' and value or '' end
for i = 1, #KEYS, 5 do
  local here = ARGV[(i - 1) / 5 + 1]
  local heard = '-'
  local beat = redis.call('GET', KEYS[i])
  if beat then
    local status = cjson.decode(beat)
    if status['host'] == here then heard = tostring(status['connected'] == true) .. ':' .. text(status['error']) end
  end
  local info = redis.call('HMGET', KEYS[i + 1], 'version', 'host', 'stored')
  local version = redis.call('HMGET', KEYS[i + 2], 'version', 'host')
  local events = redis.call('HMGET', KEYS[i + 3], 'version', 'host')
  local checked = redis.call('GET', KEYS[i + 4])
  parts[#parts + 1] = table.concat({
    KEYS[i], here, heard,
    info[2] == here and (text(info[1]) .. '@' .. text(info[3])) or '-',
    version[2] == here and text(version[1]) or '-',
    events[2] == here and text(events[1]) or '-',
    checked and redis.sha1hex(checked) or '-',
  }, '|')
end
return redis.sha1hex(table.concat(parts, '\\n'))
"""


@functools.cache
def _fleet_scripts(r: redis.Redis):
    return r.register_script(_FLEET_READ), r.register_script(_FLEET_STAMP)


def _fleet_keys(names: list[str]) -> list[str]:
    keys = []
    for name in names:
        with engine.using(name):
            keys += [key("watcher"), key("kind", "info"), key("kind", "version"), key("kind", "events"), key("updates")]
    return keys


def fleet_stamp(addresses: dict[str, str]) -> str | None:
    """A name for what `peek_fleet` would read now of these engines (by name, with their address) for their
    rows, in one short Redis answer: it changes whenever a row would (a heartbeat that only moved its latency
    keeps it). None when Redis cannot say."""
    try:
        r = connection()
        return _fleet_scripts(r)[1](keys=_fleet_keys(list(addresses)), args=list(addresses.values()), client=r)
    except redis.RedisError:
        return None


def peek_fleet(addresses: dict[str, str]) -> dict[str, dict[str, Any]]:
    """For each engine (by name, with its address), what the fleet page shows, never asking an engine, in one
    Redis command: the watcher's heartbeat, info (and when it was listed), version, the newest event and how
    many tags the last update check found newer on their registry. Only what was stored for the engine's
    present address counts."""
    shown: dict[str, dict[str, Any]] = {}
    names = list(addresses)
    try:
        r = connection()
        answers = iter(_fleet_scripts(r)[0](keys=_fleet_keys(names), client=r))
    except redis.RedisError:
        return {name: {} for name in names}  # without Redis no watcher can be heard
    for name in names:
        beat, info, version, events, checked = (next(answers) for _ in range(5))
        status = _decoded(beat) if beat else None
        here = addresses[name]
        info_here = bool(info[0]) and info[1] == here
        shown[name] = {
            "watcher": status if status and status.get("host") == here else None,
            "info": _decoded(info[0]) if info_here else None,
            "listed": float(info[2]) if info_here else None,
            "version": _decoded(version[0]) if version[0] and version[1] == here else None,
            "newest_event": _decoded(events[0]) if events[0] and events[1] == here else None,
            "updates": _updates_here(checked, here) if checked else 0,
        }
    return shown


def peek(kind: str) -> tuple[Any, float] | None:
    """What the snapshot holds for a kind and when it was listed, never asking the engine (None: nothing)."""
    try:
        found = connection().hmget(key("kind", kind), ["data", "host", "stored"])
    except redis.RedisError:
        return None
    if found[0] is None or found[1] != engine.address():
        return None
    return json.loads(found[0]), float(found[2])


def read(kind: str) -> tuple[int, Any]:
    """(version, data) of one kind: the snapshot when a watcher keeps it, else the engine's answer.

    Version 0 means "asked the engine directly": a live partial then renders every time.
    Raises EngineError when the engine must be asked and cannot answer.
    """
    try:
        if _following():
            return _entry(kind)
    except redis.RedisError:
        pass  # no Redis: the page still works, asking the engine itself
    return 0, fetch(kind)


def version(*kinds: str) -> int:
    """The newest version among these kinds; 0 when no watcher keeps them (so: always re-render)."""
    try:
        if not _following():
            return 0
        return max(_entry(kind, with_data=False)[0] for kind in kinds)
    except (redis.RedisError, engine.EngineError):
        return 0  # the page renders, and says what went wrong


def stamp(kind: str) -> str:
    """A name for what the snapshot holds of a kind now (its version and its content's digest), under which a
    page may keep what it rendered from it; "" when no watcher keeps the kind (then nothing may be kept)."""
    try:
        if not _following():
            return ""
        version = _entry(kind, with_data=False)[0]
        digest = connection().hget(key("kind", kind), "digest")
    except (redis.RedisError, engine.EngineError):
        return ""
    return f"{version}:{digest}" if digest else ""


# --- the rows pages show ---------------------------------------------------------------------


def containers(all: bool = False) -> list[engine.ContainerRow]:
    """What `engine.list_containers(all)` answers, from the snapshot (statuses said as of now)."""
    version, raw = read("containers")
    return engine.container_rows(raw, all=all, listed_at=_listed_at("containers") if version else None)


def _listed_at(kind: str) -> float | None:
    try:
        stored = connection().hget(key("kind", kind), "stored")
    except redis.RedisError:
        return None
    return float(stored) if stored else None


def images() -> list[engine.ImageRow]:
    """What `engine.list_images()` answers, from the snapshot."""
    return engine.image_rows(read("images")[1])


def networks() -> list[engine.NetworkRow]:
    """`docker network ls`, from the snapshot, with the containers attached to each."""
    return engine.network_rows(read("networks")[1], read("containers")[1])


def volumes() -> list[engine.VolumeRow]:
    """`docker volume ls`, from the snapshot, with the containers using each."""
    return engine.volume_rows(read("volumes")[1], read("containers")[1])


def append_events(new: list[dict[str, Any]]) -> None:
    """The watcher adds what the stream brought to the feed (newest first)."""
    raw = connection().hget(key("kind", "events"), "data")
    kept = json.loads(raw) if raw else []
    # A resumed stream replays the events at its start; the feed keeps each once.
    seen = {_event_key(e) for e in kept}
    fresh = [e for e in reversed(new) if _event_key(e) not in seen]
    store("events", (fresh + kept)[:EVENTS_KEPT], generation("events"))


def _event_key(raw: dict[str, Any]) -> tuple:
    return raw.get("timeNano"), raw.get("Type"), raw.get("Action"), (raw.get("Actor") or {}).get("ID")


# --- image updates (the update check's results, console/images/updates.py) ---------------------


def store_updates(found: dict[str, Any]) -> None:
    """Keep this engine's last update check: per tag, per registry, when."""
    connection().set(key("updates"), json.dumps({**found, "host": engine.address()}, default=str))


def updates() -> dict[str, Any]:
    """This engine's last update check ({} when none was made, or Redis cannot say)."""
    try:
        raw = connection().get(key("updates"))
    except redis.RedisError:
        return {}
    found = json.loads(raw) if raw else {}
    return found if found.get("host") == engine.address() else {}
