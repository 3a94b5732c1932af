from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_the_compose_file_parses_and_names_the_production_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "redis", "postgres"} <= set(services)
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "celery" in " ".join(services["worker"]["command"])
    for name in ("web", "worker"):
        assert any("/var/run/docker.sock" in v for v in services[name]["volumes"]), name
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres")
        assert env["REDIS_URL"].startswith("redis://")
    # the engine socket is root on the host: nothing publishes it, and the web port binds loopback by default
    assert all(not p.startswith("0.0.0.0") for p in services["web"].get("ports", []))
    assert "ports" not in services["redis"] and "ports" not in services["postgres"]
    assert (ROOT / "Dockerfile").read_text().startswith("FROM python:3.13")
