"""Helpers shared by the drafting, publishing and history tests (no tests here).

They write through the services or, where another feature owns the action (accepting and rejecting
proposals), set the rows up the way that feature does, so these tests do not depend on its code.
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
    Element,
    ElementText,
    Proposal,
    ProposalStatus,
    User,
    Version,
    db,
    utcnow,
)
from workbench.proposals.services import changed_ranges


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


def entry_of(vision, key: str) -> DraftEntry:
    return db.session.scalar(
        select(DraftEntry)
        .join(Element, Element.id == DraftEntry.element_id)
        .where(Element.vision_id == vision.id, Element.key == key)
        .execution_options(populate_existing=True)
    )


def element_of(vision, key: str) -> Element:
    return db.session.scalar(select(Element).where(Element.vision_id == vision.id, Element.key == key))


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


def open_proposal(vision, key: str, author: User, body: str) -> Proposal:
    entry = entry_of(vision, key)
    proposal = Proposal(
        vision_id=vision.id,
        element_id=entry.element_id,
        author_id=author.id,
        base_text_id=entry.text_id,
        title=entry.text.title,
        body=body,
        rationale="Because it reads better.",
        changed_ranges=changed_ranges(entry.text, entry.text.title, body),
    )
    db.session.add(proposal)
    db.session.commit()
    return proposal


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


def fresh(model, id_):
    """The row as the database holds it now (requests write through their own sessions)."""
    return db.session.scalar(select(model).where(model.id == id_).execution_options(populate_existing=True))
