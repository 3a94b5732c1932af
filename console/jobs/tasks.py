from celery import shared_task

from console.jobs import kinds  # noqa: F401  (registers the job kinds)
from console.jobs.runner import execute


@shared_task(name="console.run_job", acks_late=True, ignore_result=True)
def run_job(job_id: int) -> None:
    execute(int(job_id))
