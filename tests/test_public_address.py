"""Every absolute link comes from the site's configured address, never from the Host header a
request claimed (issue 19, item 1)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import base_config
from workbench import create_app
from workbench.config import build_config
from workbench.extensions import db
from workbench.mail import read_outbox

PUBLIC = "https://vision.example.org"


@pytest.fixture
def app_config():
    # The test client fetches its CSRF tokens from localhost, whose cookies another host does not
    # get: trust localhost beside the public host, and leave CSRF to its own tests.
    return {"PUBLIC_URL": PUBLIC + "/", "TRUSTED_HOSTS": ["vision.example.org", "localhost"], "WTF_CSRF_ENABLED": False}


def test_serving_without_a_public_address_is_refused_outside_development(tmp_path):
    with pytest.raises(RuntimeError, match="WORKBENCH_PUBLIC_URL is not set"):
        build_config(tmp_path, {"SECRET_KEY": "x" * 32, "TESTING": False, "DEV": False, "PUBLIC_URL": None})
    assert build_config(tmp_path, {"SECRET_KEY": "x" * 32, "DEV": True, "PUBLIC_URL": None}).get("TRUSTED_HOSTS") is None


@pytest.mark.parametrize("address", ["vision.example.org", "ftp://vision.example.org", "https://", "https://a.example/path", "https://a.example/?x=1"])
def test_a_public_address_that_is_not_a_site_address_is_refused(tmp_path, address):
    with pytest.raises(RuntimeError, match="is not a site address"):
        build_config(tmp_path, {"SECRET_KEY": "x" * 32, "PUBLIC_URL": address})


def test_a_request_for_another_host_gets_400(client):
    assert client.get("/about", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/about", base_url="https://vision.example.org").status_code == 200


def test_a_password_reset_mail_links_to_the_public_address_whatever_the_host_said(app, client, make_user):
    make_user(email="reset@example.org")
    client.post("/auth/reset", data={"email": "reset@example.org"}, headers={"Host": "vision.example.org"})
    client.post("/auth/reset", data={"email": "reset@example.org"}, headers={"Host": "evil.example"})
    mails = read_outbox(app.config["MAIL_OUTBOX"])
    links = [re.findall(r"https?://[^/\s]+", mail.get_content()) for mail in mails]
    assert len(mails) == 1  # the request naming evil.example was refused before it sent anything
    assert {link for found in links for link in found} == {PUBLIC}


def test_the_version_json_names_the_public_address(client, vision):
    document = client.get(f"/visions/{vision.slug}/v/1.json", base_url="https://vision.example.org").get_json()
    assert document["permalink"].startswith(PUBLIC + "/visions/")


def test_development_also_answers_on_localhost(database_url, tmp_path):
    app = create_app({**base_config(database_url), "TESTING": False, "DEV": True, "PUBLIC_URL": PUBLIC, "MAIL_OUTBOX": str(tmp_path)})
    with app.app_context():
        assert app.test_client().get("/health", base_url="http://localhost").status_code == 200
        assert app.test_client().get("/health", base_url="http://evil.example").status_code == 400
        db.engine.dispose()
