"""`docker run` as a job: find the image or pull it, create, start, and stream the output until it exits."""

from __future__ import annotations

import time
from contextlib import suppress
from typing import Any

from django.conf import settings

from console import engine
from console.images import pulling
from console.jobs.kinds import job_kind
from console.jobs.models import Job
from console.jobs.runner import JobContext
from console.secrets import mask

KIND = "container.run"
BATCH_SECONDS = 0.5  # output is written to the job at most this often


def _join_or_pull(ctx: JobContext, image: str) -> None:
    """Wait for a pull of the same image already running (sharing its progress), or pull it here."""
    running = Job.objects.filter(
        kind=pulling.KIND, engine=settings.ENGINE_NAME, target=image, state=Job.State.RUNNING
    ).first()
    if running is None:
        pulling.pull_image(ctx, image)
        return
    ctx.log(f"Joining the pull of {image} already running (job {running.pk})")
    while not running.is_finished:
        time.sleep(BATCH_SECONDS)
        running.refresh_from_db()
        ctx.set_progress(running.progress)
        ctx.check_cancelled()
    if running.state != Job.State.SUCCEEDED:
        raise engine.EngineError(running.error or f"The pull of {image} did not succeed.")
    ctx.log(f"Status: {running.result.get('status') or 'pulled ' + image}")


def _follow(ctx: JobContext, attachment: engine.Attachment) -> str:
    """Copy the output into the job until the container exits ("exited") or nobody follows any more."""
    deadline = time.monotonic() + settings.CELERY_TASK_SOFT_TIME_LIMIT - 60
    while True:
        lines = attachment.output.lines(BATCH_SECONDS)
        if lines:
            ctx.log("\n".join(text for _, text in lines))
        if attachment.output.ended:
            return "exited"
        if ctx.cancelled():
            ctx.log("Stopped following; the container keeps running.")
            return "detached"
        if time.monotonic() > deadline:
            ctx.log("Stopped following: the job reached its time limit; the container keeps running.")
            return "detached"


def _start(spec: dict[str, Any], container_id: str, start) -> None:
    try:
        start()
    except engine.EngineError:
        if spec.get("auto_remove"):  # as `docker run --rm`: a container that cannot start is not left behind
            with suppress(engine.EngineError):
                engine.remove_container(container_id, force=True)
        raise


@job_kind(KIND, progress="containers/_run_live.html")
def run_container(ctx: JobContext) -> dict:
    spec = ctx.params["spec"]
    try:
        if not engine.image_present(spec["image"]):
            ctx.log(f"Unable to find image '{spec['image']}' locally")
            _join_or_pull(ctx, spec["image"])
        container_id, warnings = engine.create_container(spec)
        for warning in warnings:
            ctx.log(f"WARNING: {warning}")
        name = engine.inspect_container(container_id).name
        result = {"id": container_id, "name": name}
        ctx.set_progress({"container": result})
        if not spec.get("follow"):
            _start(spec, container_id, lambda: engine.start_container(container_id))
            ctx.log(container_id)
            return result
        attachment = engine.Attachment(container_id, bool(spec.get("auto_remove")))
        try:
            _start(spec, container_id, attachment.start)
            if _follow(ctx, attachment) == "detached":
                return {**result, "detached": True}
            result["exit_code"] = attachment.exit_code()
        finally:
            attachment.close()
        ctx.log(f"Container {name} exited with code {result['exit_code']}.")
        return result
    finally:
        # The engine keeps the environment; the job row keeps no secrets.
        ctx.update(params={**ctx.params, "spec": {**spec, "environment": mask(spec.get("environment") or [])}})
