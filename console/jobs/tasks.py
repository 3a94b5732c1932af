import logging

from celery import shared_task
from django.utils.module_loading import autodiscover_modules

from console.jobs.runner import execute

# Each feature app registers its job kinds in its own `job_kinds.py`.
autodiscover_modules("job_kinds")
log = logging.getLogger(__name__)


@shared_task(name="console.run_job", acks_late=True, ignore_result=True)
def run_job(job_id: int) -> None:
    # The console sends a job id and nothing else; a message carrying anything else runs nothing.
    if type(job_id) is not int:
        log.warning("ignored a run_job message whose job id is %r", job_id)
        return
    execute(job_id)
