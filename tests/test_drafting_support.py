"""Helpers and fixtures shared by the drafting, publishing and history tests (no tests here).

They write through the services or, where another feature owns the action (accepting and rejecting
proposals), set the rows up the way that feature does, so these tests do not depend on its code.
Proposals are opened through the proposals service, as a volunteer's form would (tests.factories).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from workbench.models import (
    DraftChange,
    DraftEntry,
    ElementText,
    Proposal,
    ProposalStatus,
    Role,
    User,
    Version,
    db,
    utcnow,
)

from .factories import entry_of


@pytest.fixture(autouse=True)
def per_request_login(app):
    """Load the signed-in user afresh in each request, as production does.

    The test's app context is shared by every request of the test (conftest pushes it), and so is
    `g`, where Flask-Login keeps the user it loaded: after a request that rolled back, that object
    is expired and detached. Import this fixture into a test module to use it.
    """

    @app.before_request
    def forget_the_last_requests_user() -> None:
        g.pop("_login_user", None)

    yield


@pytest.fixture
def facilitator(make_user, login_as):
    """A facilitator, "Fiona Facilitator", signed in on the test client."""
    return login_as(make_user(Role.FACILITATOR, name="Fiona Facilitator"))


def versions_of(vision) -> list[Version]:
    return list(
        db.session.scalars(
            select(Version)
            .where(Version.vision_id == vision.id)
            .order_by(Version.number)
            .execution_options(populate_existing=True)
        )
    )


def edit_text(client, vision, key: str, body: str, *, title: str | None = None, reason: str = "Clearer words."):
    """Edit through the route, with the current lock version (as the edit page would carry it)."""
    entry = entry_of(vision, key)
    return client.post(
        f"/visions/{vision.slug}/draft/elements/{key}/edit",
        data={
            "title": entry.text.title if title is None else title,
            "body": body,
            "reason": reason,
            "lock_version": str(entry.lock_version),
            "action": "save",
        },
    )


def publish(client, vision, notes: str = "A new version."):
    return client.post(f"/visions/{vision.slug}/publish", data={"notes": notes})


def accept(proposal: Proposal, facilitator: User, *, note: str = "Thank you.", body: str | None = None) -> None:
    """What an accept does to the draft (the facilitation feature's contract): a new text, the entry
    pointed at it, a DraftChange "accept" naming the proposal, the proposal accepted."""
    entry = db.session.scalar(select(DraftEntry).where(DraftEntry.element_id == proposal.element_id))
    text = ElementText(element_id=proposal.element_id, title=proposal.title, body=body or proposal.body, created_by_id=proposal.author_id)
    db.session.add(text)
    db.session.flush()
    entry.text_id = text.id
    db.session.add(
        DraftChange(
            vision_id=proposal.vision_id, element_id=proposal.element_id, kind="accept",
            actor_id=facilitator.id, reason=note, text_id=text.id, proposal_id=proposal.id,
        )
    )
    proposal.status = ProposalStatus.ACCEPTED.value
    proposal.accepted_with_changes = body is not None and body != proposal.body
    proposal.result_text_id = text.id
    proposal.decided_by_id = facilitator.id
    proposal.decided_at = utcnow()
    db.session.commit()


def reject(proposal: Proposal, facilitator: User, reason: str, *, when=None) -> None:
    proposal.status = ProposalStatus.REJECTED.value
    proposal.decided_by_id = facilitator.id
    proposal.decided_at = when or utcnow()
    proposal.decision_reason = reason
    db.session.commit()


def a_second_ago():
    return utcnow() - timedelta(seconds=1)


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page) or re.search(
        rf'type="hidden" name="{name}" value="([^"]*)"', page
    )
    assert match, f"no hidden field {name}"
    return match.group(1)
