"""`manage.py workers`: a Celery worker per engine, following the Engine table.

Each engine's jobs go to its own queue (`engine.<name>`) and are served by a worker process of its own, so a
long pull on one engine never holds up a job on another. An added engine gets its worker within seconds, a
removed one's worker is stopped, and one that died is started again. To serve one engine from another host:
`celery -A console worker -Q engine.<name>`.
"""

import contextlib
import signal
import subprocess
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from console.engines.supervise import supervise
from console.jobs.runner import queue_of

STOP_WAIT = 60  # seconds a removed engine's worker may take to finish its job


def worker_argv(name: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "console",
        "worker",
        "--loglevel=INFO",
        f"--concurrency={settings.WORKER_CONCURRENCY}",
        "-Q",
        queue_of(name),
        "-n",
        f"{name}@%h",
    ]


class EngineWorker:
    """One engine's worker, in this command's process group: stopping the group (make run's Ctrl-C) stops all."""

    def __init__(self, name: str) -> None:
        self.proc = subprocess.Popen(worker_argv(name))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()  # Celery's warm shutdown: a running job finishes
        try:
            self.proc.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # its unfinished job is reaped as lost, and says so
            self.proc.wait()


class Command(BaseCommand):
    help = "Run a Celery worker for every engine's queue (or for the engines named), following the Engine table."

    def add_arguments(self, parser):
        parser.add_argument("--engine", action="append", help="serve only this engine (repeatable)")

    def handle(self, *args, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        only = set(options["engine"]) if options["engine"] else None
        supervise(EngineWorker, stop, only)
