"""docker-compose.yml and the Dockerfile, read: what `make test-deploy` (tests/deploy_stack.py) runs for real."""

import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.foundation

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_the_compose_file_parses_and_names_the_production_services():
    services = compose()
    assert {"migrate", "web", "worker", "watcher", "redis", "postgres"} <= set(services)
    # one server, HTTP and WebSocket: uvicorn serving console.asgi:application on a TCP_NODELAY socket (console/web.py)
    assert services["web"]["command"][:3] == ["python", "-m", "console.web"]
    assert services["worker"]["command"] == ["python", "manage.py", "workers"]  # a Celery worker per engine
    for name in ("web", "worker", "watcher"):
        assert services[name]["volumes"] == ["/var/run/docker.sock:/var/run/docker.sock"], name
        assert services[name]["group_add"][0].startswith("${DOCKER_GID:?"), name
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres")
        assert env["REDIS_URL"].startswith("redis://")
    # migrate needs no engine
    assert "volumes" not in services["migrate"]
    # the engine socket is root on the host: nothing publishes it, and the web port binds loopback
    assert all(p.startswith("127.0.0.1:") for p in services["web"]["ports"])
    assert "ports" not in services["redis"] and "ports" not in services["postgres"]


def test_web_worker_and_watcher_wait_for_migrate_to_complete_and_redis_to_be_healthy():
    services = compose()
    for name in ("web", "worker", "watcher"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}, name
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"


def test_web_redis_and_postgres_have_healthchecks():
    services = compose()
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"


def test_one_watcher_runs_per_engine():
    assert compose()["watcher"]["deploy"]["replicas"] == 1


def test_the_image_installs_exactly_the_hashed_lock_offline_into_a_venv_as_a_user_that_is_not_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ARG BASE=python:3.13-slim-bookworm" in dockerfile
    install = re.search(r"/opt/venv/bin/pip install ([^&]+)", dockerfile).group(1).split()
    assert {"--no-index", "--require-hashes", "--find-links"} <= set(install)
    assert install[install.index("-r") + 1] == "/tmp/requirements.txt"
    assert re.search(r"^USER console$", dockerfile, re.M)
