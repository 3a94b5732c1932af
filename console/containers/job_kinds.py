"""`docker run` and `docker exec` as jobs: run finds the image or pulls it, creates, starts, and streams the
output until the container exits; exec streams a command's output until it exits or its time is up."""

from __future__ import annotations

import shlex
import time
from contextlib import suppress
from typing import Any

from django.conf import settings
from django.db.models import F

from console import engine
from console.containers import updating
from console.images import pulling
from console.jobs.kinds import job_kind
from console.jobs.models import Job
from console.jobs.runner import OUTPUT_LIMIT, Cancelled, JobContext
from console.secrets import mask

KIND = "container.run"
EXEC = "container.exec"
BATCH_SECONDS = 0.5  # output is written to the job at most this often
EXEC_END_WAIT = 10  # seconds an ended command's output stream may take to close


def _join_or_pull(ctx: JobContext, image: str) -> None:
    """Wait for a pull of the same image already running (sharing its progress), or pull it here."""
    running = Job.objects.filter(
        kind=pulling.KIND, engine=engine.current(), target=image, state=Job.State.RUNNING
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
        ctx.made(name, container_id, image=spec["image"])
        result = {"id": container_id, "name": name}
        ctx.set_progress({"container": result})
        if not spec.get("follow"):
            _start(spec, container_id, lambda: engine.start_container(container_id))
            ctx.log(container_id)
            if spec.get("tty"):
                ctx.log("It runs with a terminal: open it from this page or the container's.")
                return {**result, "terminal": True, "detach_keys": spec.get("detach_keys") or ""}
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


def mark_stopping(job_id: str, container_id: str, grace: int) -> bool:
    """Say on the running run job that follows this container that it is being stopped (its page shows
    "Stopping…" until the job ends); False when no such job was named."""
    if not (job_id.isascii() and job_id.isdigit()):
        return False
    running = Job.objects.filter(
        pk=int(job_id),
        kind=KIND,
        engine=engine.current(),
        state=Job.State.RUNNING,
        progress__container__id=container_id,
    )
    note = f"Stopping the container: SIGTERM sent; SIGKILL after {grace} s if it has not exited…"
    return running.update(pending=note, revision=F("revision") + 1) == 1


def unmark_stopping(job_id: str) -> None:
    Job.objects.filter(pk=int(job_id), kind=KIND).update(pending="", revision=F("revision") + 1)


class _Copy:
    """A command's output into its job as it comes, up to OUTPUT_LIMIT characters."""

    def __init__(self, ctx: JobContext, output: engine.OutputPump) -> None:
        self.ctx, self.output, self.written = ctx, output, 0

    def next_batch(self) -> None:
        lines = self.output.lines(BATCH_SECONDS)
        if lines and self.written <= OUTPUT_LIMIT:
            text = "\n".join(line for _, line in lines)
            self.written += len(text)
            self.ctx.log(text if self.written <= OUTPUT_LIMIT else "(the rest of the output is not kept)")


def _end_exec(running: engine.Exec, copy: _Copy, why: str) -> None:
    try:
        running.end()
    except engine.EngineError as exc:
        raise engine.EngineError(f"{why}; it could not be ended ({exc.message}) and may still run.") from None
    deadline = time.monotonic() + EXEC_END_WAIT
    while not copy.output.ended:  # the stream closes once the processes holding it are gone
        if time.monotonic() > deadline:
            raise engine.EngineError(f"{why}; a process it started would not end and may still run.")
        copy.next_batch()
    copy.ctx.log(f"{why}: ended.")


@job_kind(EXEC, progress="containers/_exec_live.html")
def exec_in_container(ctx: JobContext) -> dict:
    """The command runs for at most EXEC_TIMEOUT seconds; then, or when the job is cancelled, it is ended."""
    container_id, limit = ctx.params["container_id"], settings.EXEC_TIMEOUT
    running = engine.Exec(container_id, shlex.split(ctx.params["command"]))
    copy = _Copy(ctx, running.output)
    deadline = time.monotonic() + limit
    try:
        while not running.output.ended:
            copy.next_batch()
            if ctx.cancelled():
                _end_exec(running, copy, "Cancelled while running")
                raise Cancelled
            if time.monotonic() > deadline:
                _end_exec(running, copy, f"Still running after {limit} s, the limit (EXEC_TIMEOUT)")
                raise engine.EngineError(f"Ended after {limit} s: a command may run for {limit} s (EXEC_TIMEOUT).")
        for _ in range(50):  # the engine may take a moment to note the exit
            still_running, exit_code = running.state()
            if not still_running:
                break
            time.sleep(0.1)
    finally:
        running.close()
    ctx.log(f"Exit code {exit_code}.")
    return {"id": container_id, "exit_code": exit_code}


@job_kind(updating.KIND, progress="images/_pull_progress.html", row="images/_pull_row.html")
def update_containers(ctx: JobContext) -> dict:
    return updating.update_containers(ctx)
