"""The newcomer's path, walked for real: `make run` (its venv from requirements.txt alone, its own Redis,
the engine DOCKER_HOST names), the first admin made with the README's command, a sign-in, a pull of
hello-world through the pull form so a job runs through the worker, then Ctrl-C and nothing left running.

    python3 tests/lab.py run -- python3 tests/newcomer.py      (what `make newcomer` and CI run)

Standard library only: it runs before any test tool is installed. The make-run tests call `walk()` too.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN, PASSWORD = "admin", "first-admin-pass!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_processes(sid: int) -> list[str]:
    out = subprocess.run(["ps", "-e", "-o", "sid=,pid=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.split()[0] == str(sid)]


def wait_for(check, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"newcomer: timed out after {timeout:.0f}s waiting for {what}")


class Console:
    """`make run` in its own session, and a browser-like client of it (cookies, CSRF tokens)."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = int(env["PORT"])
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log
        self.log = open(log, "w+")
        self.proc = subprocess.Popen(
            ["make", "run"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def printed(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def get(self, path: str) -> tuple[int, str, str]:
        try:
            with self.browser.open(self.base + path, timeout=30) as answer:
                return answer.status, answer.geturl(), answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read().decode()

    def post(self, path: str, form_page: str, data: dict[str, str]) -> tuple[int, str, str]:
        _, _, page = self.get(form_page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        headers = {"Referer": self.base + form_page}
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310 (http only)
        try:
            with self.browser.open(request, timeout=30) as answer:
                return answer.status, answer.geturl(), answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read().decode()

    def serves_login(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"newcomer: make run exited with {self.proc.returncode}:\n{self.printed()}")
        with contextlib.suppress(OSError):
            return self.get("/accounts/login/")[0] == 200
        return False

    def create_first_admin(self) -> None:
        # The README's command, as printed by make run.
        subprocess.run(
            [".venv/bin/python", "manage.py", "createsuperuser", "--noinput", "--email", "admin@example.com"],
            cwd=ROOT,
            env={**self.env, "DJANGO_SUPERUSER_USERNAME": ADMIN, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            check=True,
            capture_output=True,
        )

    def sign_in(self) -> str:
        status, url, page = self.post("/accounts/login/", "/accounts/login/", {"username": ADMIN, "password": PASSWORD})
        assert status == 200 and url == f"{self.base}/", f"newcomer: sign-in failed ({status} {url})"
        return page

    def pull(self, reference: str, timeout: float = 180) -> str:
        status, url, _ = self.post(
            "/engines/local/images/pull/start/", "/engines/local/images/pull/", {"reference": reference}
        )
        assert status == 200 and re.search(r"/jobs/\d+/$", url), f"newcomer: the pull was not queued ({status} {url})"
        job = urllib.parse.urlsplit(url).path
        state = {}

        def ended() -> bool:
            page = self.get(job)[2]
            found = re.search(r'id="job-state">(\w+)<', page)
            state.update(name=found.group(1) if found else "", page=page)
            return state["name"] in ("succeeded", "failed", "cancelled")

        wait_for(ended, f"the pull of {reference} ({job}) to end", timeout)
        assert state["name"] == "succeeded", f"newcomer: the pull {job} {state['name']}:\n{state['page']}"
        return state["page"]

    def stop(self) -> None:
        """Ctrl-C, as the terminal sends it to the whole foreground group; then nothing may be left."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.wait(timeout=90)
        try:  # a worker finishing its warm shutdown on a busy machine can take a while
            wait_for(lambda: not session_processes(self.proc.pid), "every process make run started to stop", 90)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; still running: {session_processes(self.proc.pid)}") from None
        finally:
            self.log.close()


@contextlib.contextmanager
def console(**overrides: str) -> Iterator[Console]:
    """A console as a newcomer starts it: the engine from DOCKER_HOST, Redis it must start itself."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_NAME", "ENGINE_NAME")}
    env.update(PORT=str(free_port()), REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", **overrides)
    log = Path(tempfile.mkdtemp(prefix="newcomer-")) / "make-run.log"
    running = Console(env, log)
    try:
        wait_for(running.serves_login, "make run to serve the login page", timeout=300)
        yield running
    finally:
        running.stop()


def walk(**overrides: str) -> str:
    """The whole path; returns what make run printed."""
    with console(**overrides) as running:
        printed = running.printed()
        assert "Starting redis-server" in printed, printed
        assert f"Docker engine at {running.env['DOCKER_HOST']} answers" in printed, printed
        assert "manage.py createsuperuser" in printed, printed
        running.create_first_admin()
        running.sign_in()
        page = running.pull("hello-world")
        assert "hello-world" in page
        print(f"newcomer: make run served {running.base}, the first admin signed in, hello-world pulled.")
    return printed


if __name__ == "__main__":
    if not os.environ.get("DOCKER_HOST"):
        sys.exit("newcomer: run it in the lab: python3 tests/lab.py run -- python3 tests/newcomer.py")
    walk()
    print("newcomer: Ctrl-C stopped everything make run had started.")
