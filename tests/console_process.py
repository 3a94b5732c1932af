"""A whole console (the web server as `make run` starts it, a Celery worker, the watcher) on a fresh database, for the
benchmarks and the screenshots; run inside the lab (`python tests/lab.py run -- ...`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from console.system.management.commands.serve import console_processes
from tests.lab import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ADMIN, ADMIN_PASSWORD = "admin", "bench-and-screens-1"


class ConsoleProcess:
    def __init__(self, *, watcher: bool = True, worker: bool = True, web_workers: int = 2):
        self.dir = Path(tempfile.mkdtemp(prefix="console-run-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "CONSOLE_VAR_DIR": str(self.dir),
            "DATABASE_URL": f"sqlite:///{self.dir / 'console.sqlite3'}",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        self.env.pop("TEST_DATABASE_NAME", None)
        self.procs: dict[str, subprocess.Popen] = {}
        self.watcher = watcher
        self.worker = worker
        self.web_workers = web_workers

    def manage(self, *args: str, **env: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env={**self.env, **env}, check=True, capture_output=True)

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.dir / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def start(self) -> ConsoleProcess:
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        self.manage(
            "createsuperuser",
            "--noinput",
            "--email",
            "admin@example.com",
            DJANGO_SUPERUSER_USERNAME=ADMIN,
            DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
        )
        # The same processes `make run` starts (less its Redis: the lab has one).
        argv = console_processes(PYTHON, "127.0.0.1", self.port, web_workers=self.web_workers)
        wanted = {"worker": self.worker, "web": True, "watcher": self.watcher}
        for name in ("worker", "web", "watcher"):
            if wanted[name]:
                self._spawn(name, argv[name])
        wait_for(lambda: requests.get(f"{self.url}/healthz", timeout=2).ok, "the console", timeout=60)
        return self

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def session(self, username: str = ADMIN, password: str = ADMIN_PASSWORD) -> requests.Session:
        """A signed-in requests session, through the login form like a browser."""
        s = requests.Session()
        page = s.get(f"{self.url}/accounts/login/", timeout=60)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        s.post(
            f"{self.url}/accounts/login/",
            timeout=60,
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.url}/accounts/login/"},
        )
        s.headers["X-CSRFToken"] = s.cookies["csrftoken"]
        s.headers["Referer"] = f"{self.url}/"
        return s

    def wait_job(self, session: requests.Session, job_url: str, timeout: float = 600) -> str:
        """Poll a job's page until it has finished; returns its final state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = session.get(job_url, timeout=10).text
            m = re.search(r'id="job-state">(\w+)<', text)
            if m and m.group(1) in ("succeeded", "failed", "cancelled"):
                return m.group(1)
            time.sleep(0.1)
        raise TimeoutError(job_url)
