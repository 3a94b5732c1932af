import logging

from celery import shared_task

from console.jobs.runner import RUN_JOB, execute

log = logging.getLogger(__name__)


@shared_task(name=RUN_JOB, acks_late=True, ignore_result=True)
def run_job(job_id: int) -> None:
    # The console sends a job id and nothing else; a message carrying anything else runs nothing.
    if type(job_id) is not int:
        log.warning("ignored a run_job message whose job id is %r", job_id)
        return
    execute(job_id)
