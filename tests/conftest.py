"""The shared ground of the tests: the lab, users of each role, a signed-in client per role,
jobs run in-process, and real Celery worker processes where delivery itself is under test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from hypothesis import HealthCheck, settings

from console.system.management.commands.workers import worker_argv

ROOT = Path(__file__).resolve().parent.parent
# Playwright's sync API keeps an event loop in the main thread; Django's ORM calls in tests are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "correct horse battery staple"
# Fixtures shared by several files, found by pytest instead of imported into each.
pytest_plugins = ["tests.containers_lab", "tests.images_registries", "tests.asgi_server"]

# Each xdist process has a Redis database of its own (broker queues, snapshot, dedupe keys; kombu scopes
# its broadcasts by database too): in the environment the processes it starts inherit, and in the settings
# pytest-django has already read. Database 0 is the serial pass's.
if (xdist := os.environ.get("PYTEST_XDIST_WORKER")) and "REDIS_URL" in os.environ:
    from django.conf import settings as django_settings

    os.environ["REDIS_URL"] = re.sub(r"/\d+$", f"/{int(xdist.removeprefix('gw')) + 1}", os.environ["REDIS_URL"])
    django_settings.REDIS_URL = django_settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]

# `ci` (the default, `make test`): the full search; `dev` (`make test-fast`): a few examples for the edit loop.
_hypothesis = {
    "deadline": None,
    "database": None,  # nothing written into the repository
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("ci", max_examples=40, **_hypothesis)
settings.register_profile("dev", max_examples=5, **_hypothesis)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    if not os.environ.get("LAB_REGISTRY"):
        raise pytest.UsageError(
            "The tests need the lab: run them with `make test` (python tests/lab.py run -- pytest)."
        )


def pytest_collection_modifyitems(items):
    """Markers `make test-fast` leaves out, read from what a test uses."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if {"browser_page", "chromium"} & fixtures:
            item.add_marker(pytest.mark.browser)
        if {"worker", "fleet_workers", "start_watcher"} & fixtures or item.get_closest_marker("worker"):
            item.add_marker(pytest.mark.slow)


def database_url() -> str:
    """The test database as a DATABASE_URL, for the processes a test starts (workers, watchers, manage.py)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def log_file(kind: str):
    """A log of a process a test starts, kept in the lab folder with the rest of the run's logs."""
    return open(Path(os.environ["LAB_ROOT"]) / f"{kind}{time.monotonic_ns()}.log", "w+")


@pytest.fixture
def registry() -> str:
    """The lab registry (host:port), which the lab engine also uses as its Docker Hub mirror."""
    return os.environ["LAB_REGISTRY"]


@pytest.fixture(autouse=True)
def _fresh_engine_clients():
    """Each test reads its engines' rows afresh: a row cached from the last test (another CA, another
    address under the same name) must not leak into this one."""
    from console.engine.core import forget_clients

    forget_clients()
    yield
    forget_clients()


@pytest.fixture(autouse=True)
def _fresh_renders():
    """Nothing rendered for the last test (lists, fleet rows kept for a few seconds) is served in this one."""
    from django.core.cache import caches

    for name in ("renders", "rows"):
        caches[name].clear()


@pytest.fixture(autouse=True)
def _fast_settings(settings):
    # The real hasher costs most of a second per user; sign-in behaviour does not depend on it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Each test client loads the middleware anew, and WhiteNoise's would index every static file again
    # (20-40 ms of CPU a client, most tests); looked up on request instead, with the same headers.
    settings.WHITENOISE_AUTOREFRESH = True


def make_user(username: str, role: str | None) -> User:
    user = User.objects.create_user(username, password=PASSWORD)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def viewer(db) -> User:
    return make_user("vera", "Viewer")


@pytest.fixture
def operator(db) -> User:
    return make_user("otto", "Operator")


@pytest.fixture
def admin(db) -> User:
    return make_user("ada", "Admin")


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(viewer) -> Client:
    return _client_for(viewer)


@pytest.fixture
def operator_client(operator) -> Client:
    return _client_for(operator)


@pytest.fixture
def admin_client(admin) -> Client:
    return _client_for(admin)


def lab_engine_rows() -> dict:
    """The lab's three engines as the console's Engine rows: local (DOCKER_HOST, from the environment),
    tls (tcp:// with the lab's client certificates) and ssh (ssh:// with the lab's key, its host key pinned)."""
    from pathlib import Path

    from console.engines.models import Engine

    certs = Path(os.environ["LAB_TLS_CERTS"])
    tls, _ = Engine.objects.update_or_create(
        name="tls",
        defaults={
            "url": os.environ["LAB_TLS_HOST"],
            "description": "second lab engine, TCP with TLS client certificates",
            "labels": {"env": "staging"},
            "tls_ca": (certs / "ca.pem").read_text(),
            "tls_cert": (certs / "cert.pem").read_text(),
        },
    )
    tls.set_secret("tls_key", (certs / "key.pem").read_text())
    tls.save()
    host_type, host_key, *_ = Path(os.environ["LAB_SSH_HOST_KEY"]).read_text().split()
    ssh, _ = Engine.objects.update_or_create(
        name="ssh",
        defaults={
            "url": os.environ["LAB_SSH_HOST"],
            "description": "third lab engine, through sshd",
            "labels": {"env": "prod"},
            "ssh_host_key": f"{host_type} {host_key}",
        },
    )
    ssh.set_secret("ssh_key", Path(os.environ["LAB_SSH_KEY"]).read_text())
    ssh.save()
    return {"local": Engine.objects.ensure_environment(), "tls": tls, "ssh": ssh}


@pytest.fixture
def fleet(db):
    """The lab's three engines, known to the console (see lab_engine_rows)."""
    return lab_engine_rows()


class ConsoleCommand:
    """A command of the console (`manage.py …`, `celery …`) as a real process on the test database, in a
    session of its own, its output in a log file the test can read."""

    def __init__(self, argv: list[str], log_name: str, **env: str):
        self.env = {**os.environ, "DATABASE_URL": database_url(), **env}
        self.log = log_file(log_name)
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()


class Worker(ConsoleCommand):
    """A real `celery worker` process on the test database and the lab's Redis."""

    def __init__(self):
        # make run's worker of the lab's engine, started quicker (no gossip or mingle with other workers).
        argv = worker_argv("local") + ["--concurrency=2", "--without-gossip", "--without-mingle"]
        super().__init__(
            argv,
            "worker",
            JOB_HEARTBEAT_SECONDS="1",
        )
        deadline = time.monotonic() + 60
        while "ready." not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("celery worker did not start:\n" + self.output())
            time.sleep(0.2)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def _purge_queue():
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()


@pytest.fixture
def worker(transactional_db, _purge_queue, django_db_blocker):
    """A fresh worker for one test; the test's data is committed, so the worker sees it."""
    worker = Worker()
    yield worker
    worker.kill(signal.SIGTERM)
    worker.log.close()


class FleetWorkers(ConsoleCommand):
    """`manage.py workers` as a real process on the test database: a Celery worker per Engine row."""

    def __init__(self):
        super().__init__([sys.executable, "manage.py", "workers"], "workers", JOB_HEARTBEAT_SECONDS="1")

    def wait_ready(self, *engines: str) -> None:
        """Until the worker of each engine named says it is ready (Celery names them `<engine>@host`)."""

        def ready():
            assert self.proc.poll() is None, "manage.py workers stopped:\n" + self.output()
            text = self.output()
            return all(re.search(rf"\b{re.escape(name)}@\S+ ready\.", text) for name in engines)

        try:
            wait_until(ready, timeout=90, message=f"the workers of {', '.join(engines)}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; they said:\n{self.output()}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the command stops its workers (a warm shutdown)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def fleet_workers(transactional_db, _purge_queue, fleet):
    """`manage.py workers` serving every engine of the lab (local, tls, ssh), each on its own queue."""
    workers = FleetWorkers()
    workers.wait_ready(*fleet)
    yield workers
    workers.stop()


class InProcessJobs:
    """Stands in for the Celery task when a job is sent: the runner's `execute` (claim, handler, one end)
    runs the job at once on a thread of this process, so the test can watch, poll and cancel it."""

    def __init__(self):
        self.threads: list[threading.Thread] = []

    def send(self, job_id: int, queue: str) -> str:
        thread = threading.Thread(target=self._run, args=(job_id,), daemon=True)
        thread.start()
        self.threads.append(thread)
        return f"in-process-{job_id}"

    @staticmethod
    def _run(job_id: int) -> None:
        from django.db import connection

        from console.jobs.runner import execute

        try:
            execute(job_id)
        finally:
            connection.close()


@pytest.fixture
def job_runner(transactional_db, monkeypatch):
    """Jobs run in this process when their request commits; a test still running one at its end has it cancelled."""
    from console.jobs.models import Job

    runner = InProcessJobs()
    monkeypatch.setattr("console.jobs.runner.send_to_worker", runner.send)
    yield runner
    Job.objects.filter(state=Job.State.RUNNING).update(cancel_requested=True)
    for thread in runner.threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in runner.threads), "a job did not end after it was cancelled"


def wait_until(check, timeout: float = 30.0, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


# --- real Chromium (Debian's), driven by Playwright -------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import expect, sync_playwright

    from tests.chromium import launch_chromium

    # What a page shows is awaited as long as what a page does (15 s, below): on a busy machine a page's
    # answer can take longer than Playwright's 5 s default, and a passing assertion returns at once anyway.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, live_server, settings):
    """A fresh browser tab (1280 px wide) on the live console; `page.base` is its address."""
    # The live server serves static files through the finders, which know no hashed (manifest) names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base = live_server.url
    yield page
    context.close()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
