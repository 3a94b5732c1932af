import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
_beating: dict = {}  # this worker's name and the event that stops its heartbeat


@signals.worker_ready.connect
def _start_beating(sender, **_):
    """A worker says it is alive (console/jobs/liveness.py) for as long as it runs."""
    import threading

    from console.jobs.liveness import keep_beating

    queues = sorted(q.name for q in sender.task_consumer.queues)
    _beating.update(name=sender.hostname, stop=threading.Event())
    threading.Thread(target=keep_beating, args=(sender.hostname, queues, _beating["stop"]), daemon=True).start()


@signals.worker_shutdown.connect
def _stop_beating(**_):
    from console.jobs.liveness import gone

    if _beating:
        _beating["stop"].set()
        gone(_beating["name"])
