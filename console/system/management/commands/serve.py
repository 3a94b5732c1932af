"""`make run`: Redis when none answers, one Celery worker, the watcher and the web server; Ctrl-C stops them all."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console import engine

MANAGE_PY = Path(__file__).resolve().parents[4] / "manage.py"


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Send sig to the process group proc leads (its own, from process_group=0), even if proc has exited."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def console_processes(python: str, host: str, port: int, web_workers: int = 2) -> dict[str, list[str]]:
    """The console's own processes: a Celery worker per engine, a watcher per engine, and the web server."""
    return {
        # One worker per engine's queue, following the Engine table (`manage.py workers`).
        "worker": [python, str(MANAGE_PY), "workers"],
        # One watcher per engine: event stream, shared snapshot, lost jobs, disk use timer.
        "watcher": [python, str(MANAGE_PY), "watch"],
        # One ASGI server for the pages (HTTP) and the terminals (WebSocket); the console reads X-Forwarded-For
        # itself (TRUSTED_PROXIES), so uvicorn's own reading of it is off.
        "web": [
            python,
            "-m",
            "console.web",  # uvicorn on a socket with TCP_NODELAY (see console/web.py)
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(web_workers),
            "--no-proxy-headers",
            "--no-server-header",
        ],
    }


class Command(BaseCommand):
    help = "Run the console: Redis (if needed), a Celery worker, the watcher and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.getenv("PORT", "8000")))
        parser.add_argument("--host", default=os.getenv("HOST", "127.0.0.1"))

    def say_which_engine(self) -> None:
        """First words of `make run`: which engine, and how to point the console elsewhere when none answers."""
        try:
            latency = engine.ping()
        except engine.EngineError as exc:
            self.stderr.write(
                f"No Docker engine answers at {settings.DOCKER_HOST}: {exc.message}\n"
                "The console starts anyway and shows this on every page until the engine answers.\n"
                "Start Docker Engine there, or point the console at another one, e.g.\n"
                "  DOCKER_HOST=unix:///run/user/1000/docker.sock make run\n"
                "  DOCKER_HOST=tcp://127.0.0.1:2375 make run\n"
            )
        else:
            self.stdout.write(f"Docker engine at {settings.DOCKER_HOST} answers ({latency * 1000:.0f} ms).")

    def handle(self, *args, port: int, host: str, **options):
        procs: list[subprocess.Popen] = []
        python = sys.executable
        self.say_which_engine()

        def stop(*_):
            # Each part is a process group of its own (a server and the workers it forked): signal the whole
            # group, and at the end kill what is left of it, so no worker outlives its server (a web
            # worker stuck in its exit once stayed behind after Ctrl-C).
            for proc in reversed(procs):
                signal_group(proc, signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    signal_group(proc, signal.SIGKILL)
            for proc in procs:
                signal_group(proc, signal.SIGKILL)

        if not redis_answers(settings.REDIS_URL):
            if not shutil.which("redis-server"):
                raise CommandError(
                    f"No Redis answers at {settings.REDIS_URL} and redis-server is not installed: "
                    "install the package 'redis-server' (apt-get install redis-server) or set REDIS_URL."
                )
            url = urlparse(settings.REDIS_URL)
            redis_dir = settings.VAR_DIR / "redis"
            redis_dir.mkdir(exist_ok=True)
            self.stdout.write(f"Starting redis-server on {url.hostname}:{url.port or 6379}")
            procs.append(
                subprocess.Popen(
                    [
                        "redis-server",
                        "--bind",
                        url.hostname or "127.0.0.1",
                        "--port",
                        str(url.port or 6379),
                        "--dir",
                        str(redis_dir),
                        "--save",
                        "60 1",
                    ],
                    stdout=subprocess.DEVNULL,
                    process_group=0,
                )
            )
            deadline = time.monotonic() + 10
            while not redis_answers(settings.REDIS_URL):
                if time.monotonic() > deadline or procs[-1].poll() is not None:
                    stop()
                    raise CommandError("redis-server did not start.")
                time.sleep(0.1)
        for argv in console_processes(python, host, port).values():
            procs.append(subprocess.Popen(argv, process_group=0))
        self.stdout.write(
            self.style.SUCCESS(f"\nDocker Console on http://{host}:{port}/ (engine {settings.DOCKER_HOST})")
        )
        self.stdout.write(
            "No account yet? Make the first admin with:\n"
            "  .venv/bin/python manage.py createsuperuser\n"
            "(DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD and --noinput make it non-interactive.)\n"
            "Ctrl-C stops everything this started.\n"
        )
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
        try:
            while all(proc.poll() is None for proc in procs):
                time.sleep(0.5)
            self.stderr.write("A part of the console stopped; stopping the rest.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            stop()
