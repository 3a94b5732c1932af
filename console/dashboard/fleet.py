"""The fleet: one row per engine, and where the engines drift apart (an image tag, engine settings).

Everything here reads what each engine's watcher left in the snapshot (`snapshot.peek`, `snapshot.watcher`)
and the database, never an engine: the fleet page costs the same whether its engines are quick, slow or gone.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Max, Q

from console import engine, snapshot
from console.engines.models import Engine
from console.images.reference import InvalidReference, parse
from console.jobs.models import Job
from console.system.disk import DiskUse, last_disk_usages

KIND_LABELS = {"unix": "unix", "tcp+tls": "tcp+tls", "ssh": "ssh", "tcp": "insecure tcp"}


# --- the rows of the fleet page ------------------------------------------------------------------


@dataclass
class FleetRow:
    engine: Engine
    status: dict[str, Any] | None  # the watcher's heartbeat; None: no watcher follows the engine
    info: dict[str, Any] | None  # the last listing the snapshot holds, however old
    version: dict[str, Any] | None
    listed: datetime | None  # when that info was listed
    disk: DiskUse | None
    jobs_in_flight: int
    last_event: engine.EventRow | None
    updates: int = 0  # tags with a newer image on their registry, as the last update check found

    @property
    def name(self) -> str:
        return self.engine.name

    @property
    def kind(self) -> str:
        return KIND_LABELS.get(self.engine.kind, self.engine.kind)

    @property
    def watched(self) -> bool:
        return self.status is not None

    @property
    def reachable(self) -> bool:
        return bool(self.status and self.status.get("connected"))

    @property
    def error(self) -> str:
        return (self.status or {}).get("error", "") if not self.reachable else ""

    @property
    def latency_ms(self) -> float | None:
        return (self.status or {}).get("latency_ms") if self.reachable else None

    @property
    def state(self) -> str:
        return "reachable" if self.reachable else "unreachable" if self.watched else "unwatched"

    @functools.cached_property
    def shown(self) -> str:
        """What the page shows of this row (JSON), for the live token (the latency, which moves on every ping, is
        left out: it is refreshed with the rest, and at least once a minute)."""
        info, version = self.info or {}, self.version or {}
        return json.dumps(
            [
                self.name,
                self.engine.description,
                self.engine.labels,
                self.kind,
                self.state,
                self.error,
                [info.get(k) for k in ("ServerVersion", "OperatingSystem", "Architecture", "Images")],
                [info.get(f"Containers{k}") for k in ("Running", "Paused", "Stopped")],
                version.get("ApiVersion"),
                self.disk and self.disk.job_id,
                self.jobs_in_flight,
                self.last_event
                and [self.last_event.time.timestamp(), self.last_event.action, self.last_event.actor_id],
                self.updates,
            ],
            sort_keys=True,
            default=str,
        )

    def __repr__(self) -> str:
        """What the row's rendering depends on (its rendering is kept under it): what it shows, and its ages'
        times; its latency is left out, as it moves on every ping."""
        disk = self.disk and [self.disk.size, self.disk.reclaimable, self.disk.computed]
        return json.dumps([self.shown, self.listed, disk], default=str)


def _peeked(kind: str) -> tuple[Any, float | None]:
    found = snapshot.peek(kind)
    return found if found else (None, None)


def fleet_rows(engines: Iterable[Engine]) -> list[FleetRow]:
    """The rows, in a fixed number of reads whatever the number of engines: one Redis round trip and three
    queries (a dead or slow engine costs what an idle one does: nothing is asked of any engine)."""
    engines = list(engines)
    names = [row.name for row in engines]
    in_flight = dict(
        Job.objects.filter(engine__in=names)
        .exclude(state__in=Job.TERMINAL)
        .values_list("engine")
        .annotate(n=Count("id"))
    )
    disks = last_disk_usages(names)
    peeked = snapshot.peek_fleet({row.name: row.address for row in engines})  # the rows at hand: no re-read
    rows = []
    for row in engines:
        seen = peeked.get(row.name, {})
        listed, newest = seen.get("listed"), seen.get("newest_event")
        rows.append(
            FleetRow(
                engine=row,
                status=seen.get("watcher"),
                info=seen.get("info"),
                version=seen.get("version"),
                listed=datetime.fromtimestamp(listed, UTC) if listed else None,
                disk=disks.get(row.name),
                jobs_in_flight=in_flight.get(row.name, 0),
                last_event=engine.event_row(newest) if newest else None,
                updates=seen.get("updates", 0),
            )
        )
    return rows


def fleet_key(engines: list[Engine]) -> str | None:
    """A name for everything the fleet rows of these engines stand on now, small to read whatever the engines
    hold (one Redis command and one query): what each engine's snapshot and watcher hold for it (its
    `fleet_stamp`), its row in the Engine table, and the jobs made and ended on them (its jobs in flight, its
    disk use). None when Redis cannot say: then nothing may be kept under it.

    Jobs are named by the newest id and how many have ended, not by the latest end time: two jobs that end at
    once may commit out of the order of their end times, and the second would not move the latest."""
    stamp = snapshot.fleet_stamp({row.name: row.address for row in engines})
    if stamp is None:
        return None
    jobs = Job.objects.filter(engine__in=[row.name for row in engines]).aggregate(
        made=Max("id"), ended=Count("id", filter=Q(state__in=Job.TERMINAL))
    )
    shown = [[row.description, row.labels, row.kind] for row in engines]
    parts = [stamp, shown, jobs["made"], jobs["ended"]]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def fleet_token(rows: list[FleetRow]) -> str:
    """A digest of what the rows show: the live part answers 204 while it stays the same."""
    return hashlib.sha256("\n".join(row.shown for row in rows).encode()).hexdigest()[:16]


# --- drift: one image reference across the fleet --------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _canonical(text: str) -> str | None:
    """A RepoTag or RepoDigest as one spelling (docker.io/library/httpd:2.4), or None when it is none."""
    try:
        return parse(text, default_tag=False).canonical
    except InvalidReference:
        return None  # "<none>:<none>" and the like


def _familiar(canonical: str) -> str:
    return str(parse(canonical, default_tag=False))


def image_listings(engines: Iterable[Engine]) -> dict[str, list[dict[str, Any]] | None]:
    """Each engine's image listing as its snapshot holds it (None: never listed)."""
    listings = {}
    for row in engines:
        with engine.using(row.name):
            listings[row.name] = _peeked("images")[0]
    return listings


def _index(listing: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The images of one listing by each canonical reference they answer to (tags and digests)."""
    found = {}
    for image in listing:
        for text in [*(image.get("RepoTags") or []), *(image.get("RepoDigests") or [])]:
            if ref := _canonical(text):
                found[ref] = image
    return found


@dataclass(frozen=True)
class Holding:
    """One engine's copy of an image reference."""

    engine: str
    state: str  # same, differs, lacking, unknown (the engine's images were never listed)
    id: str = ""
    digest: str = ""

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    @property
    def short_digest(self) -> str:
        algorithm, _, hexpart = self.digest.rpartition("@")[2].partition(":")
        return f"{algorithm}:{hexpart[:12]}" if hexpart else ""


@dataclass
class ImageDrift:
    reference: str  # as people write it: httpd:2.4
    holdings: list[Holding]
    majority: str  # the id most engines hold ("" when none is held by more engines than every other)

    @property
    def named_differs(self) -> list[str]:
        return [h.engine for h in self.holdings if h.state == "differs"]

    @property
    def named_lacking(self) -> list[str]:
        return [h.engine for h in self.holdings if h.state == "lacking"]

    @property
    def ids(self) -> int:
        return len({h.id for h in self.holdings if h.id})


def _digest_for(image: dict[str, Any], full_name: str) -> str:
    """The image's RepoDigest in the reference's own repository (else its first): what a pull by digest names."""
    digests = [d for d in image.get("RepoDigests") or [] if _canonical(d)]
    mine = [d for d in digests if _canonical(d).partition("@")[0] == full_name]
    return (mine or digests or [""])[0]


def image_drift(listings: dict[str, list[dict[str, Any]] | None], text: str) -> ImageDrift:
    """Which engines hold the reference `text` (a tag, or name@digest), as which image; raises InvalidReference."""
    ref = parse(text)
    wanted = ref.canonical
    found = {name: _index(listing).get(wanted) if listing is not None else None for name, listing in listings.items()}
    counts = Counter(image["Id"] for image in found.values() if image)
    top = counts.most_common(2)
    majority = top[0][0] if top and (len(top) == 1 or top[0][1] > top[1][1]) else ""
    holdings = []
    for name, image in found.items():
        if image is None:
            holdings.append(Holding(name, "unknown" if listings[name] is None else "lacking"))
            continue
        state = "same" if image["Id"] == majority else "differs"
        holdings.append(Holding(name, state, image["Id"], _digest_for(image, ref.full_name)))
    return ImageDrift(str(ref), holdings, majority)


def references(listings: dict[str, list[dict[str, Any]] | None]) -> list[str]:
    """Every tag present on any engine, as people write it, sorted."""
    tags = {
        ref
        for listing in listings.values()
        for image in listing or []
        for text in image.get("RepoTags") or []
        if (ref := _canonical(text))
    }
    return sorted(_familiar(ref) for ref in tags)


def drifting_references(listings: dict[str, list[dict[str, Any]] | None]) -> list[tuple[str, int]]:
    """The tags that name different images on different engines: (tag, how many different images)."""
    ids: dict[str, set[str]] = {}
    for listing in listings.values():
        for image in listing or []:
            for text in image.get("RepoTags") or []:
                if ref := _canonical(text):
                    ids.setdefault(ref, set()).add(image["Id"])
    return sorted((_familiar(ref), len(held)) for ref, held in ids.items() if len(held) > 1)


# --- drift: engine settings ---------------------------------------------------------------------------

SETTINGS = {"version": "Engine version", "mirrors": "Registry mirrors", "insecure": "Insecure registries"}


def engine_settings(info: dict[str, Any]) -> dict[str, str]:
    """The settings compared across the fleet, each as one string."""
    registries = engine.registry_config_of(info)
    return {
        "version": info.get("ServerVersion", ""),
        "mirrors": ", ".join(sorted(registries["mirrors"])) or "none",
        "insecure": ", ".join(sorted(registries["insecure"])) or "none",
    }


@dataclass
class EngineSettings:
    engine: str
    values: dict[str, str]  # empty: the engine's info was never listed
    differs: set[str] = field(default_factory=set)


@dataclass
class SettingsDrift:
    rows: list[EngineSettings]

    def differing(self) -> dict[str, list[str]]:
        """Each setting some engine differs on: the engines that differ from the rest."""
        return {
            label: [row.engine for row in self.rows if key in row.differs]
            for key, label in SETTINGS.items()
            if any(key in row.differs for row in self.rows)
        }

    @property
    def compared(self) -> int:
        return sum(1 for row in self.rows if row.values)


def settings_drift(infos: dict[str, dict[str, Any] | None]) -> SettingsDrift:
    """The engines whose version, registry mirrors or insecure registries are not the most common one."""
    rows = [EngineSettings(name, engine_settings(info) if info else {}) for name, info in infos.items()]
    for key in SETTINGS:
        counts = Counter(row.values[key] for row in rows if row.values)
        top = counts.most_common(2)
        majority = top[0][0] if len(top) == 1 or (top and top[0][1] > top[1][1]) else None
        for row in rows:
            if row.values and len(counts) > 1 and row.values[key] != majority:
                row.differs.add(key)
    return SettingsDrift(rows)


def engine_infos(engines: Iterable[Engine]) -> dict[str, dict[str, Any] | None]:
    infos = {}
    for row in engines:
        with engine.using(row.name):
            infos[row.name] = _peeked("info")[0]
    return infos
