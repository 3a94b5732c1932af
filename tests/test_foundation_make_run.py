"""`make run` on its own: it starts Redis when none answers, a worker and the web server,
serves the login page and the dashboard, and Ctrl-C stops everything it started."""

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from tests.conftest import wait_until
from tests.lab import free_port

ROOT = Path(__file__).resolve().parent.parent


def session_processes(sid: int) -> list[str]:
    out = subprocess.run(["ps", "-e", "-o", "sid=,pid=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.split()[0] == str(sid)]


@pytest.fixture
def console_env(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "CONSOLE_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'console.sqlite3'}",
        # nothing answers here, so `make run` must start a redis-server of its own
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "ENGINE_NAME": f"makerun{port}",
    }
    env.pop("TEST_DATABASE_NAME", None)
    return env, f"http://127.0.0.1:{port}"


@pytest.mark.serial  # counts or compares what the whole engine holds
def test_make_run_serves_the_console_and_ctrl_c_stops_it_all(console_env):
    env, base = console_env
    log = open(Path(env["CONSOLE_VAR_DIR"]).parent / "make-run.log", "w+")
    proc = subprocess.Popen(
        ["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:

        def login_page():
            try:
                return requests.get(f"{base}/accounts/login/", timeout=10).status_code == 200
            except (requests.ConnectionError, requests.Timeout):
                assert proc.poll() is None, log.seek(0) or log.read()
                return False

        wait_until(login_page, timeout=120, message="make run to serve the login page")
        log.seek(0)
        printed = log.read()
        assert "python manage.py createsuperuser" in printed
        assert "Starting redis-server" in printed

        subprocess.run(
            [str(ROOT / ".venv/bin/python"), "manage.py", "createsuperuser", "--noinput", "--email", "a@example.com"],
            cwd=ROOT,
            env={**env, "DJANGO_SUPERUSER_USERNAME": "root", "DJANGO_SUPERUSER_PASSWORD": "s3cret-pass!"},
            check=True,
            capture_output=True,
        )
        browser = requests.Session()
        page = browser.get(f"{base}/accounts/login/", timeout=5)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        dashboard = browser.post(
            f"{base}/accounts/login/",
            data={"username": "root", "password": "s3cret-pass!", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/accounts/login/"},
            timeout=10,
        )
        assert dashboard.url == f"{base}/"
        import docker

        info = docker.from_env().info()
        assert f"Docker {info['ServerVersion']}" in dashboard.text
        assert f'id="count-images">{info["Images"]}<' in dashboard.text
        assert f"{info['ContainersRunning']} running" in dashboard.text
        assert f"{info['ContainersPaused']} paused" in dashboard.text
        assert f"{info['ContainersStopped']} stopped" in dashboard.text
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        proc.wait(timeout=60)
        wait_until(lambda: not session_processes(proc.pid), timeout=30, message="every started process to stop")
        log.close()
    assert not session_processes(proc.pid)
