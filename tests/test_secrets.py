"""One secret detector (console/secrets.py) for container and image pages, job rows and the audit trail."""

import io
import json
import tarfile

import docker
import pytest

from console.audit.models import AuditEvent
from console.audit.record import record
from console.secrets import detect, mask
from tests.images_registries import forget

pytestmark = pytest.mark.security

PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
SECRET_ENV = {
    "DB_PASS": "pw-db-1",
    "API_CREDENTIAL": "cred-api-2",
    "AUTH": "auth-3",
    "PASSPHRASE": "phrase-4",
    "DATABASE_URL": "postgres://app:url-pw-5@db:5432/app",
    "DEPLOY_PEM": PEM,
}
PLAIN_ENV = {"AUTHOR": "ada-lovelace", "BYPASS_CACHE": "yes-please", "MONKEY": "george", "GREETING": "hello-all"}


@pytest.mark.parametrize(
    "name", ["DB_PASS", "API_CREDENTIAL", "AUTH", "PASSPHRASE", "dbPassword", "GITHUB_TOKEN", "x-auth-token", "APIKEY"]
)
def test_it_knows_secret_names(name):
    assert detect(name, "anything")


@pytest.mark.parametrize("name", ["AUTHOR", "BYPASS_CACHE", "MONKEY", "COMPASS_HEADING", "PATH", "KEYBOARD_LAYOUT"])
def test_it_leaves_names_that_only_contain_a_secret_word(name):
    assert not detect(name, "plain value")


@pytest.mark.parametrize(
    "value",
    ["postgres://app:s3cret@db/app", PEM, "https://user:tok@registry.example.com/v2/", "ghp_" + "a1B2" * 9],
)
def test_it_knows_credentials_whatever_they_are_called(value):
    assert detect("SETTING", value)
    assert "s3cret" not in mask(value) and "b3BlbnNz" not in mask(value) and "a1B2a1B2" not in mask(value)


@pytest.mark.parametrize("value", ["https://registry.example.com/v2/", "ops@example.com", "user@host:/srv", "a=b"])
def test_it_leaves_ordinary_values(value):
    assert not detect("SETTING", value)


def test_a_viewer_sees_no_secret_of_a_containers_environment_and_an_admin_sees_them(
    lab,
    viewer_client,
    operator_client,
    admin_client,
):
    up = lab.httpd(environment={**SECRET_ENV, **PLAIN_ENV}, labels={"deploy.token": "label-tok-10", "tier": "web"})
    ran = lab.hello(command=["/bin/busybox", "echo", "--password=cmd-pw-9", "--user=ops"])
    for client in (viewer_client, operator_client):
        page = client.get(f"/engines/local/containers/{ran.id}/").content.decode()
        assert "cmd-pw-9" not in page and "--password=***" in page and "--user=ops" in page
        page = client.get(f"/engines/local/containers/{up.id}/").content.decode()
        for value in ("pw-db-1", "cred-api-2", "auth-3", "phrase-4", "url-pw-5", "b3BlbnNz", "label-tok-10"):
            assert value not in page
        assert "<td>web</td>" in page
        for name in SECRET_ENV:
            assert f"<code>{name}</code>" in page
        assert "postgres://app:***@db:5432/app" in page  # where it points stays readable
        for value in PLAIN_ENV.values():
            assert value in page  # AUTHOR, BYPASS_CACHE, MONKEY are not secrets
    page = admin_client.get(f"/engines/local/containers/{up.id}/").content.decode()
    for value in ("pw-db-1", "cred-api-2", "auth-3", "phrase-4", "url-pw-5", "b3BlbnNz", "label-tok-10"):
        assert value in page
    assert "cmd-pw-9" in admin_client.get(f"/engines/local/containers/{ran.id}/").content.decode()


@pytest.fixture
def image_with_secrets():
    """An image whose configuration (as built) holds secrets in its environment and labels."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    client = docker.from_env()
    answer = client.api.import_image_from_data(
        data.getvalue(),
        repository="t-secrets",
        tag="1",
        changes=["ENV DB_PASS=pw-image-6", "ENV GREETING=hello-image", "LABEL deploy.token=label-tok-7"],
    )
    yield json.loads(answer.strip().splitlines()[-1])["status"]
    forget("t-secrets:1")


def test_an_images_environment_and_labels_are_masked_for_everyone_but_admins(
    image_with_secrets, viewer_client, admin_client
):
    page = viewer_client.get(f"/engines/local/images/{image_with_secrets}/").content.decode()
    assert "pw-image-6" not in page and "label-tok-7" not in page
    assert "DB_PASS=***" in page and "GREETING=hello-image" in page
    page = admin_client.get(f"/engines/local/images/{image_with_secrets}/").content.decode()
    assert "pw-image-6" in page and "label-tok-7" in page


def test_the_audit_trail_masks_with_the_same_detector(db):
    event = record(
        "ada",
        "container.run",
        "httpd:2.4",
        "requested",
        spec={"environment": [f"{k}={v}" for k, v in {**SECRET_ENV, **PLAIN_ENV}.items()], "command": "echo hi"},
        registry_url="https://bob:url-pw-8@registry.example.com/",
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    text = stored.canonical().decode()
    for value in ("pw-db-1", "cred-api-2", "auth-3", "phrase-4", "url-pw-5", "b3BlbnNz", "url-pw-8"):
        assert value not in text
    environment = stored.params["spec"]["environment"]
    assert "DB_PASS=***" in environment and "AUTHOR=ada-lovelace" in environment  # AUTHOR is not a secret
    assert "DATABASE_URL=postgres://app:***@db:5432/app" in environment
    assert stored.params["registry_url"] == "https://bob:***@registry.example.com/"
