"""The update check: for each tag on an engine that came from a registry, is there newer content under it?

One job per engine (on demand, and every UPDATE_CHECK_INTERVAL seconds from the watcher). Each tag costs one
manifest HEAD, through the engine's distribution endpoint with the stored credentials; its digest is compared
with the tag's RepoDigest (both are the index digest for a multi-platform image). Each registry is also asked
one HEAD directly, for the pull quota it says it has left (console/images/quota.py). Registries are checked side
by side, so one that does not answer holds up none of the others; a registry that fails is not asked again
in the same check, and one that rate-limits (429) is left alone for a while, longer each time (at least as long
as its Retry-After says).
"""

from __future__ import annotations

import contextvars
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from console import engine, snapshot
from console.images import credentials, quota, registries
from console.images.reference import parse

KIND = "image.update_check"
BACKOFF_FIRST, BACKOFF_MAX = 900, 6 * 3600  # seconds a rate-limited registry is left alone
_RATE_LIMITED = re.compile(r"toomanyrequests|too many requests|\b429\b|rate limit")
_PER_TAG = ("manifest unknown", "not found", "no such")  # this tag's problem, not the registry's


def tags_from_registries(images: list[dict[str, Any]]) -> dict[str, tuple[str, set[str]]]:
    """Each tag that came from a registry: its image id and the digests it was pulled by."""
    found = {}
    for image in images:
        for tag in image.get("RepoTags") or []:
            repository = tag.rpartition(":")[0]
            digests = {d.partition("@")[2] for d in image.get("RepoDigests") or [] if d.partition("@")[0] == repository}
            if repository and repository != "<none>" and digests:
                found[tag] = (image["Id"], digests)
    return found


def _check_registry(tags: dict[str, tuple[str, set[str]]], auth) -> tuple[dict, dict, dict]:
    """One registry's tags, in order, until the registry itself fails; and what it says of its quota."""
    results: dict[str, dict[str, Any]] = {}
    said = quota.ask(parse(min(tags)), auth)
    try:
        for tag, (image_id, digests) in sorted(tags.items()):
            try:
                remote = engine.registry_digest(tag, auth)
            except engine.EngineError as exc:
                text = exc.message.lower()
                if exc.status_code == 404 or any(word in text for word in _PER_TAG):
                    results[tag] = {"state": "error", "image_id": image_id, "error": exc.message}
                    continue
                return results, {"error": exc.message, "rate_limited": bool(_RATE_LIMITED.search(text))}, said
            state = "current" if remote in digests else "available"
            results[tag] = {"state": state, "image_id": image_id, "local": sorted(digests), "remote": remote}
        return results, {}, said
    finally:
        engine.reset_client()  # this thread's client goes with it


def check_updates(log) -> dict[str, Any]:
    """Check every tag from a registry on this engine, keep the results in the snapshot; what was found."""
    previous = snapshot.updates()
    now = time.time()
    tags = tags_from_registries(engine.raw_listing("images"))
    by_registry: dict[str, dict[str, tuple[str, set[str]]]] = {}
    for tag, found in tags.items():
        by_registry.setdefault(parse(tag).domain, {})[tag] = found
    kept_tags = previous.get("tags") or {}
    results: dict[str, dict[str, Any]] = {}
    registry_rows: dict[str, dict[str, Any]] = {}
    asked: dict[str, Any] = {}
    for domain, domain_tags in sorted(by_registry.items()):
        before = (previous.get("registries") or {}).get(domain) or {}
        if before.get("retry_after", 0) > now:
            registry_rows[domain] = before
            results.update({t: kept_tags[t] for t in domain_tags if t in kept_tags})
            until = time.strftime("%H:%M UTC", time.gmtime(before["retry_after"]))
            log(f"{domain}: rate-limited; left alone until {until}")
            continue
        if reason := registries.refusal(parse(next(iter(domain_tags)))):
            registry_rows[domain] = {"error": reason, "tags": len(domain_tags)}
            continue
        asked[domain] = (domain_tags, credentials.auth_config(domain), before)
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(asked)))) as pool:
        futures = {
            domain: pool.submit(contextvars.copy_context().run, _check_registry, domain_tags, auth)
            for domain, (domain_tags, auth, _) in asked.items()
        }
        for domain, future in futures.items():
            domain_tags, _, before = asked[domain]
            found, failure, said = future.result()
            results.update(found)
            row: dict[str, Any] = {"tags": len(domain_tags), "checked": len(found)}
            if said:
                row["quota"] = said
            if failure.get("rate_limited"):
                wait = min(BACKOFF_MAX, max(2 * before.get("backoff", BACKOFF_FIRST // 2), said.get("retry_after", 0)))
                row |= {"backoff": wait, "retry_after": now + wait}
                said = failure["error"]
                failure["error"] = f"Rate-limited by {domain}: not asked again for {wait // 60} minutes. ({said})"
            if failure:
                row["error"] = failure["error"]
                results.update({t: kept_tags[t] for t in domain_tags if t in kept_tags and t not in found})
            registry_rows[domain] = row
    for domain, row in sorted(registry_rows.items()):
        log(f"{domain}: {row['error']}" if row.get("error") else f"{domain}: {row['checked']} tag(s) checked")
    for tag, row in sorted(results.items()):
        log(f"{tag}: {'update available' if row['state'] == 'available' else row.get('error') or 'up to date'}")
    found = {"checked": now, "tags": results, "registries": registry_rows}
    snapshot.store_updates(found)
    available = sum(1 for row in results.values() if row["state"] == "available")
    errors = sum(1 for row in registry_rows.values() if row.get("error"))
    return {"available": available, "tags": len(results), "registry_errors": errors}


def mark_current(tag: str, image_id: str, digest: str) -> None:
    """A pull brought the tag's newest image: the last check's answer for it says so."""
    found = snapshot.updates()
    row = (found.get("tags") or {}).get(tag)
    if row is None:
        return
    row.update(state="current", image_id=image_id, local=[digest] if digest else row.get("local", []))
    snapshot.store_updates(found)


def update_context() -> dict[str, Any]:
    """What the image and container lists show of the last check: the tags with an update, when, what failed."""
    found = snapshot.updates()
    tags = found.get("tags") or {}
    quotas = {d: r.get("quota") or {} for d, r in (found.get("registries") or {}).items()}
    return {
        # sorted: it is part of the key the lists' renderings are kept under
        "updates_available": tuple(sorted(tag for tag, row in tags.items() if row.get("state") == "available")),
        "updates_checked": datetime.fromtimestamp(found["checked"], UTC) if found.get("checked") else None,
        "update_errors": sorted((d, r["error"]) for d, r in (found.get("registries") or {}).items() if r.get("error")),
        "update_quotas": [(d, text) for d, r in sorted(quotas.items()) if (text := quota.described(r))],
    }
