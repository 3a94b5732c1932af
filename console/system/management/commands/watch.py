"""`manage.py watch`: the one watcher of this console's engine (see console/system/watcher.py)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from console.system.watcher import Watcher


class Command(BaseCommand):
    help = "Follow the engine's events, keep the shared snapshot in Redis, and run the console's timers."

    def handle(self, *args, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"Watching the engine {settings.ENGINE_NAME} at {settings.DOCKER_HOST}")
        Watcher(stop).run()
        self.stdout.write("Watcher stopped.")
