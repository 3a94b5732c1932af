"""Pulling images: one job per reference and engine, live per-layer progress, failures said plainly.

`pull_image(ctx, reference)` does a whole pull inside any job (the image.pull kind, or a run that
needs its image first); `join_or_enqueue_pull(who, reference)` starts a pull job or joins the one
already pulling that reference. Both refuse a registry that `registries.refusal` refuses.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from contextlib import closing
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F

from console import engine
from console.audit.record import record
from console.images import credentials, registries
from console.images.models import PullLock
from console.images.reference import DEFAULT_DOMAIN, Reference, parse
from console.jobs.models import Job
from console.jobs.runner import JobContext, enqueue

KIND = "image.pull"
FLUSH_SECONDS = 0.25  # progress is written at most this often
# Statuses after which a layer's bytes are all on the engine.
_DOWNLOADED = {"Verifying Checksum", "Download complete", "Extracting", "Pull complete"}
_FINISHED = {"Pull complete", "Already exists"}
LAYER_ID = re.compile(r"[0-9a-f]{12}")


class PullProgress:
    """Folds the engine's pull messages into per-layer rows, overall bytes and a rate."""

    def __init__(self) -> None:
        self.layers: dict[str, dict[str, Any]] = {}
        self.digest = ""
        self.status = ""
        self.started = time.monotonic()

    def feed(self, message: dict[str, Any]) -> str | None:
        """Take one message; return the line the CLI would print for it, if any."""
        status = message.get("status", "")
        layer_id = message.get("id")
        if status.startswith("Digest: "):
            self.digest = status.removeprefix("Digest: ")
            return status
        if status.startswith("Status: "):
            self.status = status.removeprefix("Status: ")
            return status
        if not layer_id or not LAYER_ID.fullmatch(layer_id):
            # "2.4: Pulling from library/httpd", "WARNING: …" and other lines about the whole pull.
            return f"{layer_id}: {status}" if layer_id else status or None
        layer = self.layers.setdefault(layer_id, {"id": layer_id, "size": 0, "downloaded": 0})
        detail = message.get("progressDetail") or {}
        layer.update(status=status, current=detail.get("current", 0), total=detail.get("total", 0))
        layer["done"] = (status in _DOWNLOADED and status != "Extracting") or status in _FINISHED
        if status == "Downloading":
            layer["size"], layer["downloaded"] = layer["total"], layer["current"]
        elif status in _DOWNLOADED:
            layer["downloaded"] = layer["size"]
        if status in _FINISHED:
            return f"{layer_id}: {status}"
        return None

    def snapshot(self) -> dict[str, Any]:
        downloaded = sum(layer["downloaded"] for layer in self.layers.values())
        elapsed = max(time.monotonic() - self.started, 0.001)
        return {
            "layers": list(self.layers.values()),
            "current": downloaded,
            "total": sum(layer["size"] for layer in self.layers.values()),
            "rate": int(downloaded / elapsed),
            "digest": self.digest,
            "status": self.status,
        }


_UNREACHABLE = ("dial tcp", "connection refused", "no such host", "timeout", "i/o timeout")


def explain_failure(ref: Reference, message: str, mirrors: Sequence[str] = ()) -> str:
    """The engine's pull error, said so a person knows what to do next.

    `mirrors`: the engine's Docker Hub mirrors (URLs), for a reference on docker.io.
    """
    text = message.lower()
    registry = ref.domain
    unreachable = any(word in text for word in _UNREACHABLE)
    if ref.domain == DEFAULT_DOMAIN and mirrors and unreachable and "docker.io" in text:
        # The engine falls back to docker.io only once its mirror failed, and reports the last failure alone.
        hosts = ", ".join(urlsplit(m).netloc or m for m in mirrors)
        return (
            f"{ref} was not found on the mirror {hosts}, and the fallback to docker.io failed: docker.io could not "
            f"be reached from the engine. Check the name and tag; the mirror serves only what it holds. ({message})"
        )
    if "no space left on device" in text:
        return (
            f"Pulling {ref} failed: the engine's disk is full (no space left on device). "
            f"Free space, e.g. prune unused images, then pull again. ({message})"
        )
    if "manifest unknown" in text or ("not found" in text and "manifest" in text):
        return f"{ref} was not found: {registry} has no such image or tag. Check the name and tag. ({message})"
    if any(word in text for word in ("unauthorized", "authentication required", "denied", "no basic auth")):
        return (
            f"{registry} refused to let this console pull {ref}: the repository does not exist, or it needs "
            f"credentials that are missing or wrong (an Admin stores them under Registries). ({message})"
        )
    if unreachable:
        return f"The registry {registry} could not be reached from the engine. ({message})"
    return f"Pulling {ref} failed: {message}"


def _mirrors() -> list[str]:
    try:
        return engine.registry_config()["mirrors"]
    except engine.EngineError:
        return []


class PullRefused(Exception):
    """A pull the console will not send to the engine; the message says why."""


def pull_image(ctx: JobContext, reference: str, *, vetted: bool = False) -> dict[str, str]:
    """Pull reference on the engine with live progress in ctx; return the image's id, digest and status line.

    `vetted`: join_or_enqueue_pull has already applied the registry rule to this reference.
    """
    ref = parse(reference)
    if not vetted and (reason := registries.refusal(ref)):
        raise engine.EngineError(reason)
    if ref.default_tag:
        ctx.log(f"Using default tag: {ref.tag}")
    progress = PullProgress()
    ctx.set_progress(progress.snapshot())
    last_flush = 0.0
    try:
        with closing(engine.pull_stream(ref.name, ref.pull_tag, credentials.auth_config(ref.domain))) as stream:
            for message in stream:
                if "error" in message or "errorDetail" in message:
                    detail = message.get("errorDetail") or {}
                    raise engine.EngineError(detail.get("message") or message.get("error") or "unknown error")
                line = progress.feed(message)
                if line:
                    ctx.log(line)
                if time.monotonic() - last_flush >= FLUSH_SECONDS:
                    last_flush = time.monotonic()
                    ctx.set_progress(progress.snapshot())
                    ctx.check_cancelled()
    except engine.EngineUnreachable:
        raise
    except engine.EngineError as exc:
        ctx.set_progress(progress.snapshot())
        explained = explain_failure(ref, exc.message, _mirrors() if ref.domain == DEFAULT_DOMAIN else ())
        raise engine.EngineError(explained, exc.status_code) from exc
    ctx.set_progress(progress.snapshot())
    ctx.log(ref.canonical)
    return {"id": engine.image_id(str(ref)), "digest": progress.digest, "status": progress.status}


def _username(who) -> str:
    user = getattr(who, "user", who)
    return user.get_username() if getattr(user, "is_authenticated", False) else str(user)


def join_or_enqueue_pull(who, reference: str) -> tuple[Job, bool]:
    """Queue a pull of reference, or join the pull of it already queued or running on this engine.

    Returns (job, joined). The check and the create are serialized by a per-engine lock row,
    so concurrent requests for one reference make one job. Raises PullRefused, recorded and with nothing
    queued, when the registry rule refuses the reference.
    """
    ref = parse(reference)
    target = str(ref)
    if reason := registries.refusal(ref):
        record(who, KIND, target, "denied", error=reason, reference=target)
        raise PullRefused(reason)
    PullLock.objects.get_or_create(engine=engine.current())
    with transaction.atomic():
        PullLock.objects.select_for_update().get(engine=engine.current())
        job = (
            Job.objects.filter(
                kind=KIND, engine=engine.current(), target=target, state__in=(Job.State.QUEUED, Job.State.RUNNING)
            )
            .order_by("pk")
            .first()
        )
        if job is None:
            # The reference as typed, so the job can say "Using default tag" as the CLI does.
            return enqueue(who, KIND, target, reference=reference.strip()), False
        name = _username(who)
        if name != job.requested_by_name and name not in job.joined_by:
            job.joined_by = [*job.joined_by, name]
            Job.objects.filter(pk=job.pk).update(joined_by=job.joined_by, revision=F("revision") + 1)
        record(who, KIND, target, "joined", job_id=job.pk, reference=target)
        return job, True
