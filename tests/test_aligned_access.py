"""Who may use the routes on one initiative, with real initiatives (the matrix world has none).

Roles: an anonymous visitor, another volunteer, the submitter (a volunteer), a facilitator and an
admin; initiatives: one waiting for its first screening and one published. Outcomes: "ok" (the
page, or a redirect after the action), "login" (sent to sign in), 403, 404 (not visible to them).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workbench.models import AlignedWork, AuditEvent, Role, db

from .test_aligned_support import *  # noqa: F403 (fixtures)
from .test_aligned_support import reload, valid_form

ROLES = ("anonymous", "volunteer", "submitter", "facilitator", "admin")

#            route                 waiting initiative                              published initiative
EXPECTED = {
    "show": (("404", "404", "ok", "ok", "ok"), ("ok", "ok", "ok", "ok", "ok")),
    "edit-form": (("404", "404", "ok", "403", "403"), ("login", "403", "ok", "403", "403")),
    "edit": (("404", "404", "ok", "403", "403"), ("login", "403", "ok", "403", "403")),
    # On a published initiative nothing waits: facilitators get a message, nothing changes.
    "approve": (("404", "404", "403", "ok", "ok"), ("login", "403", "403", "ok", "ok")),
    "reject": (("404", "404", "403", "ok", "ok"), ("login", "403", "403", "ok", "ok")),
}


def outcome(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (302, 303) and "/auth/login" in location:
        return "login"
    if response.status_code in (200, 302, 303):
        return "ok"
    return str(response.status_code)


@pytest.fixture
def people(submitter, facilitator, make_user):
    return {
        "anonymous": None,
        "volunteer": make_user(Role.VOLUNTEER),
        "submitter": submitter,
        "facilitator": facilitator,
        "admin": make_user(Role.ADMIN),
    }


def request(client, route: str, work: AlignedWork, vision):
    submitted_at = (work.pending or {}).get("submitted_at", "")
    if route == "show":
        return client.get(f"/aligned-work/{work.id}")
    if route == "edit-form":
        return client.get(f"/aligned-work/{work.id}/edit")
    if route == "edit":
        return client.post(f"/aligned-work/{work.id}/edit", data=valid_form(vision, title="Changed by someone"))
    if route == "approve":
        return client.post(f"/aligned-work/{work.id}/approve", data={"submitted_at": submitted_at})
    return client.post(f"/aligned-work/{work.id}/reject", data={"reason": "Not aligned.", "submitted_at": submitted_at})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", list(EXPECTED))
@pytest.mark.parametrize("published", [False, True], ids=["waiting", "published"])
def test_routes_on_one_initiative(client, vision, people, sign_in, make_work, role, route, published):
    work = make_work(vision, approved=published)
    before = (work.state, work.title, dict(work.pending or {}))
    events_before = db.session.scalar(select(func.count(AuditEvent.id)))
    sign_in(people[role])
    response = request(client, route, work, vision)
    assert response.status_code != 500
    expected = EXPECTED[route][published][ROLES.index(role)]
    assert outcome(response) == expected, f"{role} {route} on a {'published' if published else 'waiting'} initiative"
    after = reload(work)
    if expected != "ok" or route in ("show", "edit-form"):
        # Refused (or only read): nothing changed and nothing was recorded.
        assert (after.state, after.title, dict(after.pending or {})) == before
        assert db.session.scalar(select(func.count(AuditEvent.id))) == events_before


@pytest.mark.parametrize(
    "role, expected",
    [("anonymous", "login"), ("volunteer", "ok"), ("submitter", "ok"), ("facilitator", "ok"), ("admin", "ok")],
)
def test_your_initiatives_is_for_members(client, people, sign_in, role, expected):
    sign_in(people[role])
    assert outcome(client.get("/aligned-work/yours")) == expected


@pytest.mark.parametrize(
    "role, expected",
    [("anonymous", "login"), ("volunteer", "403"), ("submitter", "403"), ("facilitator", "ok"), ("admin", "ok")],
)
def test_the_screening_queue_is_for_facilitators(client, vision, people, sign_in, make_work, role, expected):
    make_work(vision, approved=False)
    sign_in(people[role])
    response = client.get(f"/visions/{vision.slug}/aligned-work/screening")
    assert outcome(response) == expected
    if expected != "ok":
        assert "Open bus timetables" not in response.text


def test_a_get_never_changes_anything(client, vision, people, sign_in, make_work):
    work = make_work(vision, approved=False)
    sign_in(people["facilitator"])
    for path in ("approve", "reject"):
        assert client.get(f"/aligned-work/{work.id}/{path}").status_code == 405
    assert reload(work).state == "pending"
