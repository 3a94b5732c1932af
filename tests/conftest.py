"""The shared ground of the tests: the lab, users of each role, a signed-in client per role,
and real Celery worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
# Playwright's sync API keeps an event loop in the main thread; Django's ORM calls in tests are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "correct horse battery staple"


def pytest_configure(config):
    if not os.environ.get("LAB_REGISTRY"):
        raise pytest.UsageError(
            "The tests need the lab: run them with `make test` (python tests/lab.py run -- pytest)."
        )


@pytest.fixture
def registry() -> str:
    """The lab registry (host:port), which the lab engine also uses as its Docker Hub mirror."""
    return os.environ["LAB_REGISTRY"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher costs most of a second per user; sign-in behaviour does not depend on it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


class Worker:
    """A real `celery worker` process on the test database and the lab's Redis."""

    def __init__(self, db_name: str):
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_name}", "JOB_HEARTBEAT_SECONDS": "1"}
        self.log = open(Path(db_name).with_suffix(f".worker{time.monotonic_ns()}.log"), "w+")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "console",
                "worker",
                "--loglevel=INFO",
                "--pool=prefork",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "-Q",
                "engine.local",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while "ready." not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("celery worker did not start:\n" + self.output())
            time.sleep(0.2)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

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
    from django.db import connection

    worker = Worker(connection.settings_dict["NAME"])
    yield worker
    worker.kill(signal.SIGTERM)
    worker.log.close()


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
    from playwright.sync_api import sync_playwright

    from tests.chromium import launch_chromium

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
