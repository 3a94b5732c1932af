from celery import shared_task
from django.utils.module_loading import autodiscover_modules

from console.jobs.runner import execute

# Each feature app registers its job kinds in its own `job_kinds.py`.
autodiscover_modules("job_kinds")


@shared_task(name="console.run_job", acks_late=True, ignore_result=True)
def run_job(job_id: int) -> None:
    execute(int(job_id))
