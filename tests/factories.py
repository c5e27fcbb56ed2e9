"""Small factories the test modules share: rows looked up by a vision's element keys, proposals and
comments made through the services (so that they are what a volunteer's form would have made), and
the audit events of an action. Fixtures built on them (`vision`, `author`) are in conftest.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from workbench.extensions import db
from workbench.models import AuditEvent, Comment, DraftEntry, Element, Proposal, User, Vision, utcnow

KEY = "objective-1"


def element_of(vision: Vision, key: str = KEY) -> Element:
    return db.session.scalar(select(Element).where(Element.vision_id == vision.id, Element.key == key))


def entry_of(vision: Vision, key: str = KEY) -> DraftEntry:
    """The element's working-draft entry as the database holds it now."""
    return db.session.scalar(
        select(DraftEntry)
        .join(Element, Element.id == DraftEntry.element_id)
        .where(Element.vision_id == vision.id, Element.key == key)
        .execution_options(populate_existing=True)
    )


def fresh(model: Any, id_: int) -> Any:
    """The row as the database holds it now (requests write through their own sessions)."""
    return db.session.scalar(select(model).where(model.id == id_).execution_options(populate_existing=True))


def open_proposal(
    vision: Vision,
    author: User,
    key: str = KEY,
    body: str | None = None,
    *,
    title: str | None = None,
    rationale: str = "It reads better.",
) -> Proposal:
    """A proposal opened through the service and committed. By default it changes the word "body"
    to "text" in the element's working text ("Objective 1.1 body." -> "Objective 1.1 text.")."""
    from workbench.proposals.services import open_proposal as open_through_service

    entry = entry_of(vision, key)
    proposal = open_through_service(
        vision,
        entry.element,
        author,
        entry.text.title if title is None else title,
        entry.text.body.replace("body", "text") if body is None else body,
        rationale,
    )
    db.session.commit()
    return proposal


def add_comment(
    proposal: Proposal, user: User, body: str = "A comment.", parent: Comment | None = None, minutes_ago: int = 0
) -> Comment:
    """A comment (or, with `parent`, a reply) posted through the service and committed; with
    `minutes_ago`, dated that many minutes in the past (for ordering)."""
    from workbench.discussion.services import post_comment

    comment = post_comment(fresh(Proposal, proposal.id), user, body, parent.id if parent else None)
    if minutes_ago:
        comment.created_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return comment


def events(action: str) -> list[AuditEvent]:
    """The audit events recorded for `action`, oldest first."""
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
