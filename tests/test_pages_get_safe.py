"""Every GET is free of side effects; credentials never travel in a query string; no default account."""

import docker
import pytest
from django.apps import apps
from django.test import Client

from console.jobs.models import Job
from console.terminals.models import Recording
from tests.conftest import make_user
from tests.test_accounts_url_roles import SAMPLES, TABLE, console_patterns

pytestmark = pytest.mark.hardening


def engine_state(client: docker.DockerClient) -> tuple:
    containers = sorted((c["Id"], c["State"], tuple(c["Names"])) for c in client.api.containers(all=True))
    images = sorted((i["Id"], tuple(i.get("RepoTags") or ())) for i in client.api.images())
    networks = sorted(n["Id"] for n in client.api.networks())
    volumes = sorted(v["Name"] for v in client.api.volumes().get("Volumes") or [])
    return containers, images, networks, volumes


def database_state() -> dict:
    """Every field of every row: a GET that changed a value, not just one that added or removed a row, shows."""
    # Sessions are renewed on every request by design (idle expiry), so they are left out.
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.label != "sessions.Session"
    }


@pytest.mark.serial  # counts or compares what the whole engine holds
@pytest.mark.django_db
def test_no_get_view_changes_the_engine_or_the_database(admin_client, admin, registry):
    engine = docker.from_env()
    engine.images.pull("hello-world", tag="latest")
    container = engine.containers.run("hello-world", name="get-safety", detach=True)
    container.wait()
    volume = engine.volumes.create("get-safety")
    image_id = engine.images.get("hello-world:latest").id
    job = Job.objects.create(kind="system.df", engine="local", requested_by_name="ada", state="succeeded")
    Recording.objects.create(
        pk=1, engine="local", container="get-safety", container_id=container.id, actor_name=admin.username, cast="{}\n"
    )
    values = {
        "container_id": container.id,
        "image_id": image_id,
        "job_id": str(job.pk),
        "user_id": str(admin.pk),
        "fmt": "csv",
        "pk": "1",
        "engine": "local",
        "name": "local",
    }
    try:
        before = engine_state(engine), database_state()
        called = 0
        for route, pattern in console_patterns():
            method, _ = TABLE[pattern.name]
            if method != "GET" or pattern.name == "login":
                continue
            path = SAMPLES.get(pattern.name, "/" + route)
            named = {"network_detail": "bridge", "volume_detail": volume.name}  # a network's or volume's name
            path = path.replace("<str:name>", named.get(pattern.name, "<str:name>"))
            for key, value in values.items():
                for converter in ("int", "str", "slug"):
                    path = path.replace(f"<{converter}:{key}>", value)
            query = {"ref": "hello-world:latest"} if pattern.name == "image_remove" else {}
            response = admin_client.get(path, query)
            assert response.status_code in (200, 204, 302, 307), (path, response.status_code)
            called += 1
        assert called >= 15
        assert (engine_state(engine), database_state()) == before
    finally:
        container.remove(force=True)
        volume.remove(force=True)


@pytest.mark.django_db
def test_credentials_in_a_query_string_sign_nobody_in(client):
    make_user("quinn", "Viewer")
    from tests.conftest import PASSWORD

    query = {"username": "quinn", "password": PASSWORD}
    response = client.get("/accounts/login/", query)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post("/accounts/login/?username=quinn&password=" + PASSWORD.replace(" ", "+"))
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_a_new_installation_has_no_account_and_no_setup_page():
    from django.contrib.auth.models import User

    assert User.objects.count() == 0
    for path in ("/setup/", "/install/", "/accounts/signup/", "/accounts/register/"):
        assert Client().get(path).status_code in (302, 404)
