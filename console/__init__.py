# The Celery app (console/celery.py) is not loaded here: most console processes (manage.py commands, the
# watchers) never send a job, and Celery costs each of them a third of its start-up. `celery -A console`
# finds console.celery itself, and the runner loads it when it first sends a job.
__version__ = "0.1.0"
