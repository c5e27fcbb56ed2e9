"""Rate limits on signing in, registering and resetting (REFERENCE.md bad input 14), with a friendly 429."""

from __future__ import annotations

import pytest

from workbench.extensions import limiter
from workbench.mail import read_outbox
from workbench.security import HEADERS

from .conftest import TEST_PASSWORD


@pytest.fixture
def app_config():
    # Small limits so that a test reaches them quickly; the defaults are in workbench/limits.py.
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_SIGN_IN": "6/minute",
        "RATELIMIT_SIGN_IN_ACCOUNT": "3/minute",
        "RATELIMIT_MAIL_REQUEST": "3/minute",
        "RATELIMIT_MAIL_ADDRESS": "2/minute",
        "RATELIMIT_PASSWORD_CHECK": "3/minute",
    }


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()

    @app.teardown_request
    def forget(exc):  # noqa: ANN001
        from flask import g

        g.pop("_login_user", None)
        g.pop("csrf_token", None)

    yield
    limiter.reset()


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def attempt(client, email: str, password: str = "wrong password", address: str = "198.51.100.1"):
    return client.post("/auth/login", data={"email": email, "password": password}, **from_address(address))


def assert_friendly_429(response) -> None:
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "<h1 class=\"ds_page-header__title\">Too many attempts</h1>" in page
    assert "Wait a few minutes and try again" in page
    assert "Traceback" not in page
    for name, value in HEADERS.items():
        assert response.headers[name] == value


def test_many_sign_ins_from_one_address_get_a_429(client, make_user):
    make_user(email="target@example.org")
    # Different accounts, so only the per-address limit (6 a minute) applies.
    answers = [attempt(client, f"guess{n}@example.org").status_code for n in range(6)]
    assert answers == [400] * 6
    assert_friendly_429(attempt(client, "target@example.org", TEST_PASSWORD))
    # Another address is not affected.
    assert attempt(client, "target@example.org", TEST_PASSWORD, address="198.51.100.2").status_code == 303


def test_failed_sign_ins_for_one_account_from_many_addresses_get_a_429(client, make_user):
    make_user(email="target@example.org")
    answers = [attempt(client, "TARGET@example.org", address=f"203.0.113.{n}").status_code for n in range(3)]
    assert answers == [400, 400, 400]
    # The fourth try for that account is refused wherever it comes from, even with the right password.
    assert_friendly_429(attempt(client, "target@example.org", TEST_PASSWORD, address="203.0.113.99"))
    # Other accounts can still sign in from those addresses.
    make_user(email="other@example.org")
    assert attempt(client, "other@example.org", TEST_PASSWORD, address="203.0.113.1").status_code == 303


def test_successful_sign_ins_do_not_use_up_the_account_limit(client, make_user):
    make_user(email="regular@example.org")
    for n in range(5):
        assert attempt(client, "regular@example.org", TEST_PASSWORD, address=f"192.0.2.{n}").status_code == 303
        client.post("/auth/logout", **from_address(f"192.0.2.{n}"))


def test_registration_requests_are_limited_per_address_and_per_mailbox(app, client):
    answers = [
        client.post("/auth/register", data={"email": "inbox@example.org"}, **from_address(f"192.0.2.{n}")).status_code
        for n in range(3)
    ]
    assert answers == [303, 303, 429]  # two mails a minute to one mailbox
    assert len(read_outbox(app.config["MAIL_OUTBOX"])) == 2
    answers = [
        client.post("/auth/register", data={"email": f"p{n}@example.org"}, **from_address("192.0.2.50")).status_code
        for n in range(4)
    ]
    assert answers == [303, 303, 303, 429]  # three requests a minute from one address
    assert_friendly_429(client.post("/auth/register", data={"email": "q@example.org"}, **from_address("192.0.2.50")))


def test_reset_requests_are_limited_and_answer_the_same_for_any_address(client, make_user):
    make_user(email="known@example.org")
    known = [client.post("/auth/reset", data={"email": "known@example.org"}, **from_address(f"192.0.2.{n}")).status_code for n in range(3)]
    unknown = [client.post("/auth/reset", data={"email": "unknown@example.org"}, **from_address(f"192.0.2.{n}")).status_code for n in range(3)]
    assert known == unknown == [303, 303, 429]


def test_reading_the_sign_in_page_is_not_limited(client):
    for _ in range(10):
        assert client.get("/auth/login", **from_address("192.0.2.7")).status_code == 200


def test_password_checks_of_a_signed_in_person_are_limited(client, make_user):
    make_user(email="me@example.org")
    assert attempt(client, "me@example.org", TEST_PASSWORD, address="192.0.2.9").status_code == 303
    answers = [
        client.post("/account/password", data={"current_password": "guess", "new_password": "new long passphrase"}).status_code
        for _ in range(4)
    ]
    assert answers == [400, 400, 400, 429]


def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out_of_a_browser_they_used_before(app, client, make_user):
    """The account limit stops a guesser spread over many addresses without keeping the rightful
    owner out: a browser where the account signed in before is not counted against it."""
    make_user(email="owner@example.org")
    assert attempt(client, "owner@example.org", TEST_PASSWORD, address="192.0.2.10").status_code == 303
    assert client.get_cookie("known_device") is not None
    client.post("/auth/logout", **from_address("192.0.2.10"))

    attacker = app.test_client()
    for n in range(3):
        assert attempt(attacker, "owner@example.org", address=f"203.0.113.{n}").status_code == 400
    assert_friendly_429(attempt(attacker, "owner@example.org", TEST_PASSWORD, address="203.0.113.50"))
    # The owner's own browser still gets in with the right password.
    assert attempt(client, "owner@example.org", TEST_PASSWORD, address="192.0.2.10").status_code == 303


def test_a_forged_known_device_cookie_counts_for_nothing(app, client, make_user):
    make_user(email="owner@example.org")
    client.set_cookie("known_device", "forged.value")
    for n in range(3):
        assert attempt(client, "owner@example.org", address=f"203.0.113.{n}").status_code == 400
    assert_friendly_429(attempt(client, "owner@example.org", TEST_PASSWORD, address="203.0.113.60"))
