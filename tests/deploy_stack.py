"""The deployment path, proven in the lab (`make test-deploy`; slow, so `make test` does not collect it).

The console's image is built offline on a Debian 13 base (tests/deploy_image.py) and docker-compose.yml's
services are run from it on the lab engine as compose would run them: each service's command, environment,
volumes, group_add and healthcheck are read from the file, in the order its depends_on conditions say.
PostgreSQL and Redis are the file's too, as host processes instead of their Docker Hub images (never pulled):
Debian's PostgreSQL 15 and a redis-server started with the file's own command, both listening on the lab
bridge's gateway, which the console's containers reach under the names `postgres` and `redis` (--add-host),
at the file's ports. So the console's environment is the file's, interpolated, unchanged; the web port is
published on 127.0.0.1 only (at a free port instead of 8000, which others may use).

Then: the first admin (the file's `docker compose run --rm web python manage.py createsuperuser`), a sign-in,
a pull of hello-world through the worker (from the lab registry, the engine's mirror), a run of it, a second
watcher of the engine that waits, `manage.py audit verify`; then everything is stopped and removed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
import yaml

from tests.conftest import wait_until
from tests.deploy_image import build, docker

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
ADMIN, PASSWORD = "admin", "first-admin-pass!"
PREFIX = "deploy-"
TIMES: dict[str, float] = {}


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}."""

    def one(match: re.Match) -> str:
        name, op, arg = match.groups()
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise AssertionError(f"docker-compose.yml needs {name}: {arg}")
        return arg or ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """docker-compose.yml's services, run with the docker CLI on the lab engine."""

    broker: redis.Redis  # the file's Redis, for what the watchers keep in it

    def __init__(self, image: str, gateway: str, variables: dict[str, str], web_port: int):
        self.compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        self.services = self.compose["services"]
        self.image, self.gateway, self.variables, self.web_port = image, gateway, variables, web_port
        self.socket = os.environ["DOCKER_HOST"].removeprefix("unix://")

    def argv(self, service: str, name: str, command=None, env: dict[str, str] | None = None, detached: bool = True):
        """`docker run` arguments for the service; not detached (compose run): no ports, no healthcheck."""
        spec = self.services[service]
        assert spec["image"] == self.image
        argv = [
            "--name",
            PREFIX + name,
            "--add-host",
            f"postgres:{self.gateway}",
            "--add-host",
            f"redis:{self.gateway}",
        ]
        for key, value in spec["environment"].items():
            argv += ["--env", f"{key}={interpolate(value, self.variables)}"]
        for key, value in (env or {}).items():
            argv += ["--env", f"{key}={value}"]
        for volume in spec.get("volumes", []):
            source, target = volume.split(":")
            assert source == "/var/run/docker.sock", volume  # the engine's socket: here, the lab engine's
            argv += ["--volume", f"{self.socket}:{target}"]
        for group in spec.get("group_add", []):
            argv += ["--group-add", interpolate(group, self.variables)]
        for port in spec.get("ports", []) if detached else []:
            address, _, inside = port.split(":")
            assert address == "127.0.0.1", port
            argv += ["--publish", f"127.0.0.1:{self.web_port}:{inside}"]
        if (check := spec.get("healthcheck")) and detached:
            assert check["test"][0] == "CMD"
            argv += ["--health-cmd", shlex.join(check["test"][1:])]  # the CLI's form: the same argv, through sh
            for key in ("interval", "timeout", "retries", "start_period"):
                argv += [f"--health-{key.replace('_', '-')}", str(check[key])]
        return [*argv, self.image, *(command or spec["command"])]

    def start(self, service: str, name: str | None = None) -> str:
        restart = self.services[service]["restart"]
        docker("run", "--detach", "--restart", restart, *self.argv(service, name or service))
        return PREFIX + (name or service)

    def run(self, service: str, command: list[str] | None = None, **env: str) -> subprocess.CompletedProcess:
        """As `docker compose run --rm <service> <command>`."""
        name = f"{service}-run-{secrets.token_hex(3)}"
        argv = ["docker", "run", "--rm", *self.argv(service, name, command, env, detached=False)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=300)

    def inspect(self, name: str) -> dict:
        return json.loads(docker("inspect", PREFIX + name).stdout)[0]

    def logs(self, name: str) -> str:
        done = docker("logs", PREFIX + name)
        return done.stdout + done.stderr

    def remove_all(self) -> None:
        """Every container on the lab engine: the services and what the console ran."""
        ids = docker("ps", "--all", "--quiet").stdout.split()
        if ids:
            docker("rm", "--force", "--volumes", *ids)


def start_postgres(root: Path, address: str, port: int, password: str) -> None:
    """Debian's PostgreSQL 15 as the `postgres` user, with the file's database and user (POSTGRES_DB/USER)."""
    shutil.chown(root, "postgres", "postgres")

    def as_postgres(*argv: str) -> None:
        done = subprocess.run(["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True, cwd=root)
        assert done.returncode == 0, f"{argv[0]}: {done.stdout}{done.stderr}"

    as_postgres(str(PG_BIN / "initdb"), "-D", str(root / "data"), "-U", "postgres", "--auth=trust", "-N", "-E", "UTF8")
    with open(root / "data" / "pg_hba.conf", "w") as hba:
        hba.write("local all postgres trust\nhost console console 0.0.0.0/0 scram-sha-256\n")
    options = f"-c listen_addresses={address} -p {port} -c unix_socket_directories={root} -c fsync=off"
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-o", options, "-l", str(root / "log"), "-w", "start")
    for sql in (f"CREATE ROLE console LOGIN PASSWORD '{password}'", "CREATE DATABASE console OWNER console"):
        as_postgres(str(PG_BIN / "psql"), "-h", str(root), "-p", str(port), "-U", "postgres", "-q", "-c", sql)


def stop_postgres(root: Path) -> None:
    if (root / "data" / "postmaster.pid").exists():
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "stop"],
            capture_output=True,
        )


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    started = time.monotonic()
    image = build(TIMES)
    gateway = json.loads(docker("network", "inspect", "bridge").stdout)[0]["IPAM"]["Config"][0]["Gateway"]
    variables = {
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "REDIS_PASSWORD": secrets.token_urlsafe(16),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DOCKER_GID": str(os.stat(os.environ["DOCKER_HOST"].removeprefix("unix://")).st_gid),
        # plain HTTP in the lab: no TLS proxy in front
        "SECURE_COOKIES": "false",
        "BEHIND_PROXY": "false",
    }
    stack = Stack(image, gateway, variables, free_port())
    root = Path(tempfile.mkdtemp(prefix="deploy-"))
    postgres = Path(tempfile.mkdtemp(prefix="deploy-postgres-"))
    redis_spec = stack.services["redis"]["command"]
    redis_server = subprocess.Popen(
        [interpolate(arg, variables) for arg in redis_spec] + ["--bind", gateway, "--port", "6379", "--dir", str(root)],
        stdout=open(root / "redis.log", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        start_postgres(postgres, gateway, 5432, variables["POSTGRES_PASSWORD"])
        # migrate and the rest wait for these to be healthy: by the file's healthchecks, run on the host (Debian's
        # pg_isready and redis-cli) against the gateway (PGHOST; -h for redis-cli, which reads no host variable).
        pg_check = stack.services["postgres"]["healthcheck"]["test"]
        assert pg_check[0] == "CMD"
        wait_until(
            lambda: (
                subprocess.run(
                    [str(PG_BIN / pg_check[1]), *pg_check[2:]],
                    env={**os.environ, "PGHOST": gateway},
                    capture_output=True,
                ).returncode
                == 0
            ),
            message="PostgreSQL to be healthy",
        )
        redis_check = stack.services["redis"]["healthcheck"]["test"]
        assert redis_check[0] == "CMD-SHELL"
        redis_env = {
            key: interpolate(value, variables) for key, value in stack.services["redis"]["environment"].items()
        }
        wait_until(
            lambda: (
                subprocess.run(
                    ["sh", "-c", redis_check[1].replace("redis-cli", f"redis-cli -h {gateway}")],
                    env={**os.environ, **redis_env},
                    capture_output=True,
                ).returncode
                == 0
            ),
            message="Redis to be healthy",
        )
        stack.broker = redis.Redis(host=gateway, port=6379, password=variables["REDIS_PASSWORD"], decode_responses=True)
        yield stack
    finally:
        stack.remove_all()
        redis_server.terminate()
        redis_server.wait(timeout=30)
        stop_postgres(postgres)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(postgres, ignore_errors=True)
        TIMES["whole"] = time.monotonic() - started
        print("\ndeploy: " + ", ".join(f"{what} {seconds:.1f}s" for what, seconds in TIMES.items()))


def test_the_image_is_built_offline_on_debian_13_and_runs_as_a_user_that_is_not_root(stack):
    image = json.loads(docker("image", "inspect", stack.image).stdout)[0]
    assert image["Config"]["User"] == "console"
    probe = "import os, sys; print(sys.version_info[:2], os.getuid())"
    done = docker("run", "--rm", "--network", "none", stack.image, "python", "-c", probe)
    assert done.stdout.strip() == "(3, 13) 10001"
    # The venv holds exactly requirements.txt's set (pip itself is removed after the install).
    listing = "import importlib.metadata as m; print(*sorted(d.metadata['Name'] for d in m.distributions()))"
    installed = docker("run", "--rm", "--network", "none", stack.image, "python", "-c", listing).stdout.split()
    locked = re.findall(r"^([A-Za-z0-9._-]+)==", (ROOT / "requirements.txt").read_text(), re.M)
    normal = lambda name: re.sub(r"[-_.]+", "-", name).lower()  # noqa: E731
    assert sorted(map(normal, installed)) == sorted(map(normal, locked))
    print(f"\ndeploy: the image is {image['Size'] / 1e6:.0f} MB")


def test_web_worker_and_watcher_start_once_migrate_has_completed(stack):
    for service in ("web", "worker", "watcher"):
        assert stack.services[service]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "redis": {"condition": "service_healthy"},
        }
    assert stack.services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    # PostgreSQL and Redis answer (the fixture); migrate runs to its end, then the others start.
    migrate = subprocess.run(["docker", "run", *stack.argv("migrate", "migrate")], capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert "Applying" in migrate.stdout
    for service in ("web", "worker", "watcher"):
        stack.start(service)
    assert stack.inspect("migrate")["State"]["ExitCode"] == 0


def test_web_is_healthy_by_the_files_healthcheck(stack):
    def healthy() -> bool:
        state = stack.inspect("web")["State"]
        assert state["Health"]["Status"] != "unhealthy", stack.logs("web") + json.dumps(state["Health"])
        return state["Health"]["Status"] == "healthy"

    wait_until(healthy, timeout=120, interval=1, message="web to be healthy")
    assert stack.inspect("web")["Config"]["User"] == "console"


def test_the_first_admin_signs_in_pulls_and_runs_hello_world_through_the_worker(stack):
    made = stack.run(
        "web",
        ["python", "manage.py", "createsuperuser", "--noinput", "--email", "admin@example.com"],
        DJANGO_SUPERUSER_USERNAME=ADMIN,
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    browser = Browser(f"http://127.0.0.1:{stack.web_port}")
    signed_in = browser.post("/accounts/login/", "/accounts/login/", {"username": ADMIN, "password": PASSWORD})
    assert signed_in.url == browser.base + "/"
    pulled = browser.job(
        "/engines/local/images/pull/start/", "/engines/local/images/pull/", {"reference": "hello-world"}
    )
    assert "hello-world" in pulled
    ran = browser.job(
        "/engines/local/containers/run/",
        "/engines/local/containers/run/",
        {"image": "hello-world", "name": "deploy-hello", "restart_policy": "no", "follow": "on"},
    )
    assert "Hello from Docker!" in ran
    assert "succeeded" in stack.logs("worker")  # Celery's line for each job it ran


def test_a_second_watcher_of_the_engine_waits_for_the_first(stack):
    wait_until(lambda: "Watching the engine" in stack.logs("watcher"), message="the watcher to start")
    stack.start("watcher", "watcher-2")
    wait_until(lambda: "waiting until it stops" in stack.logs("watcher-2"), message="the second watcher to wait")
    first = stack.inspect("watcher")["Config"]["Hostname"]
    assert stack.broker.get("console:local:watcher:lock").startswith(first + ":")
    assert "Watching the engine" not in stack.logs("watcher-2")
    docker("rm", "--force", PREFIX + "watcher-2")


def test_the_audit_trail_verifies(stack):
    verified = stack.run("web", ["python", "manage.py", "audit", "verify"])
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_everything_stops_cleanly_and_is_removed(stack):
    for service in ("web", "worker", "watcher"):
        docker("stop", "-t", "30", PREFIX + service)
        assert stack.inspect(service)["State"]["ExitCode"] == 0, stack.logs(service)
    stack.remove_all()
    assert docker("ps", "--all", "--quiet").stdout.split() == []


class Browser:
    """A signed-in browser's requests: cookies, CSRF tokens from the form pages, job pages followed to their end."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def post(self, path: str, form_page: str, data: dict[str, str]) -> requests.Response:
        page = self.http.get(self.base + form_page, timeout=30).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        answer = self.http.post(
            self.base + path,
            {**data, "csrfmiddlewaretoken": token},
            headers={"Referer": self.base + form_page},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer

    def job(self, path: str, form_page: str, data: dict[str, str]) -> str:
        """Post a form that queues a job; its page once the job has succeeded."""
        url = self.post(path, form_page, data).url
        assert re.search(r"/jobs/\d+/$", url), url

        def ended() -> str | None:
            page = self.http.get(url, timeout=30).text
            state = re.search(r'id="job-state">(\w+)<', page)
            assert state is None or state.group(1) not in ("failed", "cancelled", "lost"), page
            return page if state and state.group(1) == "succeeded" else None

        return wait_until(ended, timeout=180, interval=0.5, message=f"the job {url} to succeed")
