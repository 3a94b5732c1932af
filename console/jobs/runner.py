"""The one place that queues and runs jobs.

A job kind is a function `handler(ctx: JobContext) -> dict | None` registered with
`@job_kind("name")` (console/jobs/kinds.py); it reports progress through ctx and raises to fail.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from console import engine, snapshot
from console.audit.record import record
from console.jobs import kinds
from console.jobs.models import Job

log = logging.getLogger(__name__)
RUN_JOB = "console.run_job"  # the Celery task (console/jobs/tasks.py) that carries a job id to a worker
OUTPUT_LIMIT = 1_000_000  # characters kept of a job's output; the head is dropped first


class Cancelled(Exception):
    pass


def enqueue(who, kind: str, target: str, **params: Any) -> Job:
    """Create a queued job, record the request (its kind is the audit action), queue its id once committed."""
    user = getattr(who, "user", who)
    job = Job.objects.create(
        kind=kind,
        engine=engine.current(),
        target=target,
        params=params,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        requested_by_name=user.get_username() if getattr(user, "is_authenticated", False) else "console",
        queue=queue_of(engine.current()),
    )
    record(who, kind, target, "requested", job_id=job.pk, **params)

    def send():
        try:
            task_id = send_to_worker(job.pk, job.queue)
        except Exception as exc:  # the job must not wait for ever, and its error names the real cause
            log.warning("could not queue job %s: %r", job.pk, exc)
            end(job, Job.State.FAILED, who, error=queue_failure(exc), only_from=(Job.State.QUEUED,))
            return
        Job.objects.filter(pk=job.pk).update(task_id=task_id)

    transaction.on_commit(send)
    return job


def queue_of(engine_name: str) -> str:
    """The Celery queue of an engine's jobs: a worker serves one engine's queue, or every engine's."""
    return f"engine.{engine_name}"


def send_to_worker(job_id: int, queue: str) -> str:
    """Hand a job's id to the workers of its queue (by task name: no import of the task); the task's id."""
    from console.celery import app  # loaded by the processes that send, not by every one at start-up

    return app.send_task(RUN_JOB, args=(job_id,), queue=queue, retry=False).id


def queue_failure(exc: BaseException) -> str:
    """Why a job could not be queued, told apart by its first cause: a missing module, a refusal, a time-out."""
    broker = urlsplit(settings.CELERY_BROKER_URL)
    where = f"{broker.hostname or '127.0.0.1'}:{broker.port or 6379}"
    chain, seen = [], exc
    while seen is not None and len(chain) < 20:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for cause in chain:
        if isinstance(cause, ImportError):
            return (
                f"Could not queue the job: the console cannot load its task-queue client ({cause}). "
                "Install the run requirements again (make run does it from requirements.txt)."
            )
    for cause in chain:
        if isinstance(cause, TimeoutError | redis.TimeoutError):
            return f"Could not queue the job: the task queue (Redis at {where}) did not answer in time."
    for cause in chain:
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
            return f"Could not queue the job: the task queue (Redis at {where}) refused the connection. Is it running?"
    cause = f"{exc.__class__.__name__}: {exc}"
    return f"Could not queue the job: the task queue (Redis at {where}) is unreachable ({cause})."


def finish(
    job_id: int, state: str, *, error: str = "", result: dict | None = None, only_from=(Job.State.RUNNING,)
) -> bool:
    """The one terminal write; False when the job had already ended (so nobody records twice)."""
    fields: dict[str, Any] = {"state": state, "finished": timezone.now(), "revision": F("revision") + 1}
    if error:
        fields["error"] = error
    if result is not None:
        fields["result"] = result
    return Job.objects.filter(pk=job_id, state__in=only_from).update(**fields) == 1


def end(
    job: Job,
    state: str,
    who,
    *,
    error: str = "",
    result=None,
    only_from=(Job.State.RUNNING,),
    target: str = "",
    **details,
) -> bool:
    """End a job and record its outcome in one transaction: a finished job always has its one outcome event.
    `target`: what the outcome concerns when the job made something (see JobContext.made), else the job's."""
    with transaction.atomic():
        if not finish(job.pk, state, error=error, result=result, only_from=only_from):
            return False
        record(who, job.kind, target or job.target, state, job_id=job.pk, error=error, engine=job.engine, **details)
    return True


class JobContext:
    """What a handler sees: its job, and ways to report progress and output as they happen."""

    def __init__(self, job: Job):
        self.job = job
        self.params = job.params
        self._last_cancel_check = 0.0
        self.outcome: dict[str, Any] = {}  # what the outcome event concerns, once the job made something

    def made(self, name: str, object_id: str, **params: Any) -> None:
        """The job made `name` (id `object_id`): its outcome event, whatever it is, names that, with params."""
        self.outcome = {"target": name, "target_id": object_id, **params}

    def log(self, line: str) -> None:
        Job.objects.filter(pk=self.job.pk).update(
            output=_concat(F("output"), line + "\n"), revision=F("revision") + 1, heartbeat=timezone.now()
        )

    def set_progress(self, progress: dict[str, Any]) -> None:
        Job.objects.filter(pk=self.job.pk).update(
            progress=progress, revision=F("revision") + 1, heartbeat=timezone.now()
        )

    def update(self, **fields: Any) -> None:
        Job.objects.filter(pk=self.job.pk).update(**fields, revision=F("revision") + 1, heartbeat=timezone.now())

    def cancelled(self) -> bool:
        return Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists()

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise Cancelled


def _concat(*parts):
    from django.db.models import Value
    from django.db.models.functions import Concat

    return Concat(*[p if not isinstance(p, str) else Value(p) for p in parts])


def _heartbeat(job_id: int, stop: threading.Event) -> None:
    from django.db import connection

    try:
        while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
            Job.objects.filter(pk=job_id, state=Job.State.RUNNING).update(heartbeat=timezone.now())
    finally:
        connection.close()


def execute(job_id: int) -> None:
    """Run a queued job once: claim it, run its handler, write one outcome."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING, started=now, heartbeat=now, revision=F("revision") + 1
    )
    if not claimed:
        log.info("job %s is not queued any more; nothing to do", job_id)
        return
    job = Job.objects.get(pk=job_id)
    with engine.using(job.engine):
        _run(job)


def _run(job: Job) -> None:
    job_id = job.pk
    kind = kinds.get(job.kind)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(job_id, stop), daemon=True)
    beat.start()
    who = job.requested_by_name
    ctx = JobContext(job)
    try:
        if kind is None:
            raise engine.EngineError(f"This console cannot run jobs of kind {job.kind!r}.")
        result = kind.handler(ctx) or {}
    except Cancelled:
        end(job, Job.State.CANCELLED, who, error="Cancelled.", **ctx.outcome)
    except engine.EngineError as exc:
        end(job, Job.State.FAILED, who, error=exc.message, **ctx.outcome)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        error = f"The job failed unexpectedly: {exc.__class__.__name__}: {exc}"
        end(job, Job.State.FAILED, who, error=error, **ctx.outcome)
    else:
        outcome = {"target_id": str(result.get("id", "")), "digest": result.get("digest"), **ctx.outcome}
        end(job, Job.State.SUCCEEDED, who, result=result, **outcome)
    finally:
        stop.set()
        # The job may have changed the engine: the pages' next read lists afresh.
        snapshot.changed()


def cancel(who, job: Job) -> bool:
    """Cancel a queued job at once (its end records who); ask a running one to stop, recording who asked
    (its end records the outcome). False when it had already ended."""
    by = f"Cancelled by {getattr(who, 'user', who)}."
    if end(job, Job.State.CANCELLED, who, error=by, only_from=(Job.State.QUEUED,)):
        return True
    with transaction.atomic():
        running = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, cancel_requested=False)
        if not running.update(cancel_requested=True, revision=F("revision") + 1):
            return Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).exists()
        record(who, "job.cancel", job.target, "requested", job_id=job.pk, engine=job.engine, kind=job.kind)
    return True


def reap_lost_jobs() -> int:
    """Mark running jobs whose worker stopped beating as failed; each is recorded once."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_LOST_AFTER_SECONDS)
    lost = 0
    for job in Job.objects.filter(engine=engine.current(), state=Job.State.RUNNING, heartbeat__lt=cutoff):
        reason = "Worker lost: the worker running this job stopped before it finished."
        if end(job, Job.State.FAILED, job.requested_by_name, error=reason):
            lost += 1
    return lost
