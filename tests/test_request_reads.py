"""What a signed-in page reads from the database besides its own data: the Engine table once (the switcher, the
rows and the role checks share it); the engine DOCKER_HOST names is still made by the first page of a fresh
database."""

from __future__ import annotations

import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from console.engines.models import Engine
from tests.engine_proxy import EngineProxy


def engine_table_reads(queries: list[dict]) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "engines_engine"' in q["sql"]]


def test_the_fleet_page_reads_the_engine_table_once(admin_client, fleet):
    with CaptureQueriesContext(connection) as seen:
        assert admin_client.get(reverse("fleet")).status_code == 200
    reads = engine_table_reads(seen.captured_queries)
    assert len(reads) == 1, reads


def test_the_first_page_of_a_fresh_database_makes_the_engine_docker_host_names(admin_client):
    Engine.objects.all().delete()  # as before the first page of a fresh database
    page = admin_client.get(reverse("fleet")).content.decode()
    assert Engine.objects.get(name=settings.ENGINE_NAME).from_environment
    assert f'id="engine-{settings.ENGINE_NAME}"' in page


def test_pages_served_one_after_another_reuse_the_engine_client(asgi_server, admin, settings):
    """Under ASGI every request runs on a thread of its own: its engine client goes back to the process at its
    end, so the next page does not connect afresh (for an ssh:// engine, a new SSH connection each time) nor ask
    the engine its API version again."""
    proxy = EngineProxy(settings.DOCKER_HOST).start()
    settings.DOCKER_HOST = proxy.address
    try:
        browser = Client()
        browser.force_login(admin)
        cookie = {"sessionid": browser.cookies["sessionid"].value}
        start = proxy.count()
        for _ in range(4):  # no watcher: the container list asks the engine itself
            assert requests.get(f"{asgi_server}/engines/local/containers/", cookies=cookie, timeout=30).ok
        asked = proxy.since(start)
        assert sum("/containers/json" in line for line in asked) == 4, asked
        assert sum(line.split()[1].endswith("/version") for line in asked if " " in line) <= 1, asked
    finally:
        proxy.stop()
