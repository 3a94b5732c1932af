"""A job that cannot be queued names its real cause: a missing module, a refused connection and a
time-out read differently (each is made for real in a console process of its own)."""

import os
import socket
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.lab import free_port

ENQUEUE = """
import sys
{prelude}
from django.db import transaction
from console.jobs.models import Job
from console.jobs.runner import enqueue
with transaction.atomic():
    job = enqueue(None, "system.df", "disk usage")
job = Job.objects.get(pk=job.pk)
print(job.state, job.error, sep="|")
"""


@pytest.fixture(scope="module")
def console_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("queue-errors")
    env = {**os.environ, "CONSOLE_VAR_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    return env


def ask_for_a_job(env: dict, redis_url: str, prelude: str = "") -> tuple[str, str]:
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", ENQUEUE.format(prelude=prelude)],
        cwd=ROOT,
        env={**env, "REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    state, _, error = out.stdout.strip().splitlines()[-1].partition("|")
    return state, error


def test_it_says_redis_refused_when_nothing_listens(console_env):
    port = free_port()
    state, error = ask_for_a_job(console_env, f"redis://127.0.0.1:{port}/0")
    assert state == "failed"
    assert f"Redis at 127.0.0.1:{port}) refused the connection" in error


def test_it_says_redis_did_not_answer_when_it_hangs(console_env):
    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        state, error = ask_for_a_job(console_env, f"redis://127.0.0.1:{port}/0")
    assert state == "failed"
    assert f"Redis at 127.0.0.1:{port}) did not answer in time" in error


def test_it_names_a_missing_module_rather_than_blaming_redis(console_env):
    # What a run venv without `packaging` did: kombu's Redis transport failed to import.
    hide = 'sys.modules["packaging"] = sys.modules["packaging.version"] = None'
    state, error = ask_for_a_job(console_env, os.environ["REDIS_URL"], prelude=hide)
    assert state == "failed"
    assert "cannot load its task-queue client" in error
    assert "packaging" in error
    assert "Redis at" not in error
