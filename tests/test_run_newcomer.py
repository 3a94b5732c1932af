"""`make run` as a newcomer meets it: a venv from the run requirements alone, its own Redis, the first
admin, a pull through the worker, Ctrl-C stops everything (the same walk CI takes, tests/newcomer.py)."""

import io
import subprocess

import pytest

from console.system.management.commands.serve import Command
from tests import newcomer

# One xdist process runs them one after another: each builds make run's .venv if it is missing (a fresh
# clone), and two builds of one venv at once break each other.
pytestmark = [pytest.mark.foundation, pytest.mark.worker, pytest.mark.xdist_group("make-run")]


def test_make_run_serves_the_console_pulls_through_its_worker_and_ctrl_c_stops_it_all(tmp_path):
    printed = newcomer.walk(CONSOLE_VAR_DIR=str(tmp_path / "var"))
    # Its first words say which engine answers: nothing of the console's own start-up comes before them.
    assert printed.index("Docker engine at") < printed.index("Starting redis-server")


def test_serve_with_no_engine_says_so_first_and_the_console_keeps_serving_with_the_banner(admin_client, settings):
    """make run's first words come from serve's engine check (the walk above sees them first); with no engine
    they say so and how to point the console elsewhere, and the pages say it too."""
    nowhere = "unix:///nonexistent/no-engine.sock"
    settings.DOCKER_HOST = nowhere
    said, errors = io.StringIO(), io.StringIO()
    Command(stdout=said, stderr=errors).say_which_engine()
    assert errors.getvalue().startswith(f"No Docker engine answers at {nowhere}")
    assert "DOCKER_HOST=" in errors.getvalue()  # how to point it elsewhere
    assert said.getvalue() == ""
    assert "unreachable" in admin_client.get("/engines/local/").content.decode()


def test_every_module_the_console_imports_is_in_the_run_requirements():
    """The run venv (requirements.txt alone) imports every console module and the worker's Redis transport."""
    made = subprocess.run(["make", ".venv/.installed"], cwd=newcomer.ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    probe = (
        "import os, pkgutil, importlib, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'console.settings')\n"
        "django.setup()\n"
        "import console\n"
        "for m in pkgutil.walk_packages(console.__path__, 'console.'):\n"
        "    importlib.import_module(m.name)\n"
        "import kombu.transport.redis, uvicorn, channels, websockets, psycopg, celery.bin.celery\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [".venv/bin/python", "-c", probe], cwd=newcomer.ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.stdout.strip().endswith("ok"), out.stderr
