"""`make run` as a newcomer meets it: a venv from the run requirements alone, its own Redis, the first
admin, a pull through the worker, Ctrl-C stops everything (the same walk CI takes, tests/newcomer.py)."""

import subprocess

import pytest

from tests import newcomer

# One xdist process runs them one after another: each builds make run's .venv if it is missing (a fresh
# clone), and two builds of one venv at once break each other.
pytestmark = [pytest.mark.foundation, pytest.mark.worker, pytest.mark.xdist_group("make-run")]


def test_make_run_serves_the_console_pulls_through_its_worker_and_ctrl_c_stops_it_all(tmp_path):
    newcomer.walk(CONSOLE_VAR_DIR=str(tmp_path / "var"))


def test_make_run_with_no_engine_says_so_first_and_keeps_serving_with_the_banner(tmp_path):
    nowhere = f"unix://{tmp_path}/no-engine.sock"
    with newcomer.console(CONSOLE_VAR_DIR=str(tmp_path / "var"), DOCKER_HOST=nowhere) as running:
        printed = running.printed()
        first_words = printed[printed.index("No Docker engine") :][:600]
        assert first_words.startswith(f"No Docker engine answers at {nowhere}")
        assert "DOCKER_HOST=" in first_words  # how to point it elsewhere
        # Nothing of the console's own start-up comes before it.
        assert printed.index("No Docker engine") < printed.index("Docker Console on http://")
        running.create_first_admin()
        dashboard = running.sign_in()
        assert "unreachable" in dashboard


def test_every_module_the_console_imports_is_in_the_run_requirements():
    """The run venv (requirements.txt alone) imports every console module and the worker's Redis transport."""
    subprocess.run(["make", ".venv/.installed"], cwd=newcomer.ROOT, check=True, capture_output=True)
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
