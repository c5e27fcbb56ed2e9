"""When the rate limits' Redis cannot be reached, people can still sign in and write: each process
counts the limits alone while it is down (a warning is logged once, and Redis is tried again after
1, 2, 4 … seconds), never a 500 on every limited POST."""

from __future__ import annotations

import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from workbench.auth.services import WRONG_CREDENTIALS
from workbench.extensions import limiter

from .conftest import TEST_PASSWORD


@pytest.fixture
def app_config():
    # Nothing listens on port 9 of this machine: every call to the storage fails at once.
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:9/0", "RATELIMIT_SIGN_IN": "3/minute"}


@pytest.fixture(autouse=True)
def reset_cannot_reach_redis_either(monkeypatch):
    # The test app resets its limits when it ends (conftest.app), which would fail here too.
    original = limiter.reset

    def reset() -> None:
        try:
            original()
        except RedisConnectionError:
            pass

    monkeypatch.setattr(limiter, "reset", reset)
    yield
    # The limiter outlives this test's app: the next app's storage is alive.
    limiter._storage_dead = False


def test_signing_in_works_while_redis_is_down_and_the_failure_is_logged(client, make_user, caplog) -> None:
    user = make_user(email="down@example.org")
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        response = client.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 303
    assert client.get("/account").status_code == 200
    assert "Rate limit storage unreachable" in caplog.text


def test_limits_still_hold_in_each_process_while_redis_is_down(client, make_user) -> None:
    user = make_user(email="down2@example.org")
    responses = [client.post("/auth/login", data={"email": user.email, "password": "wrong password"}) for _ in range(4)]
    # The sign-in form again, with its message, three times (the limit here); then the friendly 429,
    # counted by this process alone until Redis answers again.
    assert [r.status_code for r in responses] == [400, 400, 400, 429]
    assert WRONG_CREDENTIALS in responses[0].get_data(as_text=True)
    assert "Too many attempts" in responses[3].get_data(as_text=True)
