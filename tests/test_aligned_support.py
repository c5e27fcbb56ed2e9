"""Fixtures and helpers shared by the aligned-work tests (no tests here).

Import with `from .test_aligned_support import *` so that pytest sees the fixtures.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import g
from sqlalchemy import select

from workbench.aligned import services
from workbench.models import AlignedWork, Element, Role, User, Vision, db

__all__ = [
    "SECRET_EMAIL",
    "SECRET_PHONE",
    "element_id",
    "valid_form",
    "client",
    "sign_in",
    "submitter",
    "facilitator",
    "make_work",
    "reload",
]

SECRET_EMAIL = "secret.contact@private-example.org"
SECRET_PHONE = "+44 131 496 0999"


def element_id(vision: Vision, key: str) -> int:
    return db.session.scalar(select(Element.id).where(Element.vision_id == vision.id, Element.key == key))


def valid_form(vision: Vision, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organisation": "Highland Data Trust",
        "title": "Open bus timetables",
        "description": "We publish every bus timetable as open data.\n\nUpdated weekly.",
        "status": "current",
        "link": "https://www.example.org/buses",
        "contact": SECRET_EMAIL,
        "element_ids": [str(element_id(vision, "objective-1"))],
    }
    data.update(overrides)
    return data


@pytest.fixture
def client(client):
    """The conftest client, forgetting Flask-Login's cached user before each request.

    Requests in tests share the test's app context, hence its `g`: without this, a request (or a
    followed redirect) would reuse the user object that an earlier request loaded and detached.
    """
    open_request = client.open

    def open_fresh(*args: Any, **kwargs: Any):
        g.pop("_login_user", None)
        return open_request(*args, **kwargs)

    client.open = open_fresh
    return client


@pytest.fixture
def sign_in(client, login_as):
    """Sign a user in for the next requests (None: sign out).

    Requests share the test's app context, so Flask-Login's cached `g._login_user` from an earlier
    request would otherwise win over the new session.
    """

    def sign(user: User | None) -> User | None:
        g.pop("_login_user", None)
        if user is None:
            with client.session_transaction() as session:
                session.clear()
            return None
        return login_as(user)

    return sign


@pytest.fixture
def submitter(make_user) -> User:
    return make_user(Role.VOLUNTEER, email="submitter@example.org", name="Sam Submitter")


@pytest.fixture
def facilitator(make_user) -> User:
    return make_user(Role.FACILITATOR, email="facilitator@example.org", name="Fran Facilitator")


@pytest.fixture
def make_work(submitter: User, facilitator: User):
    """`make_work(vision, approved=True, by=None, **wording)`: an initiative made through the services."""

    def make(vision: Vision, *, approved: bool = True, by: User | None = None, **overrides: Any) -> AlignedWork:
        data = valid_form(vision, **overrides)
        work = services.submit_aligned_work(vision, by or submitter, **data)
        if approved:
            services.approve_aligned_work(work, facilitator, expected_submitted_at=None)
        db.session.commit()
        return work

    return make


def reload(work: AlignedWork) -> AlignedWork:
    db.session.remove()
    return db.session.get(AlignedWork, work.id)
