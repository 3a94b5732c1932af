"""The single-engine console's addresses lead to the default engine's pages; engine pages say which engine
they show, and an unknown engine is a 404."""

import pytest


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/containers/", "/engines/local/containers/"),
        ("/containers/?all=1", "/engines/local/containers/?all=1"),
        ("/images/pull/", "/engines/local/images/pull/"),
        ("/system/", "/engines/local/system/"),
    ],
)
def test_old_addresses_lead_to_the_default_engine(viewer_client, old, new):
    response = viewer_client.get(old)
    assert response.status_code in (302, 307) and response["Location"] == new
    assert viewer_client.get(new).status_code == 200


def test_a_post_to_an_old_address_stays_a_post(operator_client):
    response = operator_client.post("/containers/bulk/", {"action": "stop"})
    assert response.status_code == 307 and response["Location"] == "/engines/local/containers/bulk/"


def test_each_engine_page_says_which_engine_it_shows(viewer_client):
    for path in ("/engines/local/", "/engines/local/containers/", "/engines/local/images/", "/engines/local/system/"):
        page = viewer_client.get(path).content.decode()
        assert 'id="engine-scope">Engine <strong>local</strong>' in page, path
        assert 'id="engine-switcher"' in page, path


def test_an_unknown_engine_is_not_found(viewer_client):
    assert viewer_client.get("/engines/nowhere/containers/").status_code == 404
