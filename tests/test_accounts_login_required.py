import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.foundation

PUBLIC = {"login", "healthz"}  # /healthz answers load balancers and says nothing else


def all_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from all_patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def sample_path(route: str) -> str:
    if "(?P<rest>" in route:  # the single-engine console's old addresses
        return "/containers/"
    path = re.sub(r"<int:\w+>", "1", route)
    path = re.sub(r"<(?:str:|slug:|path:)?\w+>", "abc", path)
    path = re.sub(r"<path:\w+>", "abc", path)
    return "/" + path


@pytest.mark.django_db
def test_it_sends_anonymous_users_to_the_login_page_from_every_url(client):
    checked = 0
    for route, pattern in all_patterns():
        if pattern.name in PUBLIC:
            continue
        path = sample_path(route)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 302, (route, method, response.status_code)
            assert response["Location"].startswith("/accounts/login/"), (route, response["Location"])
        checked += 1
    assert checked >= 10


@pytest.mark.django_db
def test_it_serves_the_login_page_to_anonymous_users(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"Sign in" in response.content


@pytest.mark.django_db
def test_it_signs_in_with_a_password_and_lands_on_the_dashboard(client, viewer):
    from tests.conftest import PASSWORD

    response = client.post("/accounts/login/", {"username": "vera", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"Dashboard" in response.content


def test_healthz_answers_without_a_login_and_reveals_nothing(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
