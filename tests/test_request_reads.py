"""What a signed-in page reads from the database besides its own data: the Engine table once (the switcher, the
rows and the role checks share it); the engine DOCKER_HOST names is still made by the first page of a fresh
database."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from console.engines.models import Engine


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
