"""Update: pull a container's image again, and recreate the container on the newer image with its settings.

The old container is stopped and renamed (`<name>-old-<short id>`) while the new one is created under its name
and started; once the new one runs (and is healthy, when it has a healthcheck) the old one is removed. When the
new one fails, it is removed and the old one gets its name back, and is started again if it was running.
"""

from __future__ import annotations

import time
from contextlib import suppress
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from console import engine, policy
from console.images import updates
from console.images.pulling import pull_image
from console.jobs.runner import JobContext

KIND = "container.update"
STOP_GRACE = 10  # seconds, as `docker stop`, unless the container says otherwise (--stop-timeout)
POLL_SECONDS = 0.25
NS = 1_000_000_000


class Rejected(engine.EngineError):
    """The new container failed: the old one is back. `found`: its name and its old and new image ids."""

    def __init__(self, message: str, found: dict[str, Any]):
        super().__init__(message)
        self.found = found


def _health_deadline(health: dict[str, Any]) -> float:
    """How long a healthcheck may take to say healthy: its start period and retries+1 intervals (the engine's
    defaults where unset), plus a margin."""
    interval = (health.get("Interval") or 30 * NS) / NS
    timeout = (health.get("Timeout") or 30 * NS) / NS
    start = (health.get("StartPeriod") or 0) / NS
    return start + (interval + timeout) * ((health.get("Retries") or 3) + 1) + 5


def _settle(ctx: JobContext, container_id: str) -> None:
    """Wait until the new container proves itself: healthy (with a healthcheck), or still running after
    UPDATE_SETTLE_SECONDS; raise EngineError with why it did not."""
    raw = engine.raw_container(container_id)
    health = (raw.get("Config") or {}).get("Healthcheck") or {}
    checked = bool(health.get("Test")) and health["Test"][0] != "NONE"
    wait = _health_deadline(health) if checked else settings.UPDATE_SETTLE_SECONDS
    ctx.log(f"Waiting for it to be healthy (up to {wait:.0f} s)…" if checked else f"Watching it for {wait} s…")
    deadline = time.monotonic() + wait
    while True:
        state = engine.raw_container(container_id).get("State") or {}
        if state.get("Status") != "running" or state.get("Restarting"):
            code = state.get("ExitCode")
            raise engine.EngineError(f"The new container is {state.get('Status')} (exit code {code}).")
        status = (state.get("Health") or {}).get("Status")
        if checked and status == "unhealthy":
            raise engine.EngineError("The new container is unhealthy.")
        if checked and status == "healthy":
            return
        if time.monotonic() >= deadline:
            if checked:
                raise engine.EngineError(f"The new container was not healthy after {wait:.0f} s.")
            return
        ctx.check_cancelled()
        time.sleep(POLL_SECONDS)


def update_container(ctx: JobContext, container_id: str, image: str) -> dict[str, Any]:
    """Recreate one container on the image now under its tag; its old and new image and container ids."""
    old = engine.raw_container(container_id)
    name = old["Name"].lstrip("/")
    new_image = engine.raw_image(image)
    old_image_config = engine.raw_image(old["Image"]).get("Config") or {}
    recreate = engine.recreate_request(old, old_image_config, image)
    # The exact request the engine will get: host-reaching settings are for Admins (console/policy.py).
    policy.check(ctx.job.requested_by or AnonymousUser(), recreate.config["HostConfig"])
    found = {"name": name, "old_id": old["Id"], "old_image": old["Image"], "new_image": new_image["Id"]}
    if old["Image"] == new_image["Id"]:
        ctx.log(f"{name}: already on {image} ({new_image['Id'][:19]}); nothing to do.")
        return {**found, "new_id": old["Id"], "unchanged": True}
    was_running = bool((old.get("State") or {}).get("Running"))
    parked = f"{name}-old-{old['Id'][:12]}"
    if was_running:
        ctx.log(f"{name}: stopping it…")
        engine.stop_container(old["Id"], (old.get("Config") or {}).get("StopTimeout") or STOP_GRACE)
    engine.rename_container(old["Id"], parked)
    ctx.log(f"{name}: renamed to {parked}; creating it again on {image}…")
    new_id = ""
    try:
        new_id = engine.create_again(recreate)
        if was_running:
            engine.start_container(new_id)
            _settle(ctx, new_id)
    except (engine.EngineError, policy.Refused) as exc:
        why = getattr(exc, "message", str(exc))
        ctx.log(f"{name}: the new container failed: {why} Putting the old one back…")
        if new_id:
            with suppress(engine.EngineError):
                for line in engine.read_logs(new_id, tail=20):
                    ctx.log(f"  {line.text}")
            engine.remove_container(new_id, force=True)
        engine.rename_container(old["Id"], name)
        if was_running:
            engine.start_container(old["Id"])
        raise Rejected(f"{name} was not updated: {why} The old container is back, under its name.", found) from exc
    engine.remove_container(old["Id"])
    ctx.log(f"{name}: updated; {parked} removed.")
    return {**found, "new_id": new_id}


def update_containers(ctx: JobContext) -> dict[str, Any]:
    """Pull the image (live progress), then update each container of it in turn."""
    image = ctx.params["image"]
    pulled = pull_image(ctx, image)
    updates.mark_current(image, pulled["id"], pulled.get("digest", ""))
    done, failed, rolled_back = [], [], []
    for container_id in ctx.params["containers"]:
        try:
            done.append(update_container(ctx, container_id, image))
        except (engine.EngineError, policy.Refused) as exc:
            failed.append(getattr(exc, "message", str(exc)))
            ctx.log(failed[-1])
            if isinstance(exc, Rejected):
                rolled_back.append(exc.found)
    # The outcome event says, per container, the image it was on and the one it is on now.
    ctx.outcome = {
        "new_image": pulled["id"],
        "failed": failed,
        "rolled_back": rolled_back,
        "updated": [{k: row[k] for k in ("name", "old_image", "new_image", "old_id", "new_id")} for row in done],
    }
    if len(done) == 1 and not failed:
        ctx.made(done[0]["name"], done[0]["new_id"], old_image=done[0]["old_image"], new_image=done[0]["new_image"])
    if failed:
        raise engine.EngineError(" ".join(failed) + (f" ({len(done)} updated.)" if done else ""))
    return {"id": pulled["id"], "image": image, "updated": done}
