"""Your activity: what the signed-in person has proposed, written and voted, newest first.

Each section is a page of its own list (`ActivityPage`), read with two queries (a count and the
page, joined to what each row is about), whatever the person has done. Element labels ("Objective
2.3") come from each vision's latest published version, parsed once per process
(`visions.services.latest_snapshot`); an element added since is named by its kind.

The person sees their own proposals and comments even when a moderator hid them (marked so), as
the proposal and comment pages do for their authors; votes are listed only on proposals still
public, since the page a vote links to is gone for everyone else's hidden proposal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..models import Comment, DraftEntry, Element, Proposal, ProposalStatus, User, Vision, Vote, db
from ..pagination import PageNumbers
from ..proposals.services import status_label
from ..visions import services as visions
from ..visions.snapshots import KIND_NAMES

# Made once: SQLAlchemy adapts a new alias's columns afresh on each use (queue_flags._OTHER).
_ON_PROPOSAL = aliased(Proposal, name="on_proposal")

PER_PAGE = 10
EXCERPT_CHARACTERS = 160


@dataclass(frozen=True)
class About:
    """What a row is about: the vision and the element, in words."""

    vision_slug: str
    vision_title: str
    element_key: str
    element_label: str


@dataclass(frozen=True)
class ProposalRow:
    id: int
    about: About
    status: str  # "Open", "Accepted", "Accepted with changes", "Rejected", "Withdrawn"
    flags: tuple[str, ...]  # "Hidden by a moderator", "Stale: the element's text has changed since", ...
    created_at: datetime
    support: int
    oppose: int
    comments: int


@dataclass(frozen=True)
class CommentRow:
    id: int
    about: About
    kind: str  # "Comment", "Reply" or "Reflection"
    proposal_id: int | None
    excerpt: str
    flags: tuple[str, ...]  # "Retracted", "Hidden by a moderator", "Edited"
    created_at: datetime


@dataclass(frozen=True)
class VoteRow:
    proposal_id: int
    about: About
    value: str  # "Support" or "Oppose"
    proposal_status: str
    updated_at: datetime


@dataclass
class ActivityPage(PageNumbers):
    rows: list[Any]
    total: int
    page: int
    per_page: int = PER_PAGE


def _page_of(count_query: Any, rows_query: Any, page: int) -> tuple[int, int, list[Any]]:
    """The total, the page (past the last: the last) and its rows."""
    total = db.session.scalar(count_query) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows = db.session.execute(rows_query.offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all() if total else []
    return total, page, rows


def _labeller() -> Any:
    """`about(vision, element)` for the rows of one page: labels from each vision's latest version."""
    labels: dict[int, dict[str, str]] = {}

    def about(vision: Vision, element: Element) -> About:
        if vision.id not in labels:
            snapshot = visions.latest_snapshot(vision)
            labels[vision.id] = {e["key"]: e["label"] for e in snapshot["elements"]} if snapshot else {}
        label = labels[vision.id].get(element.key) or f"A new {KIND_NAMES.get(element.kind, element.kind).lower()}"
        return About(vision.slug, vision.title, element.key, label)

    return about


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARACTERS else text[: EXCERPT_CHARACTERS - 1].rstrip() + "…"


def your_proposals(user: User, page: int) -> ActivityPage:
    """The person's proposals, newest first, with status, tallies and flags: hidden, and for open
    ones stale (the element's working text moved past the proposal's base) or on a removed element."""
    where = [Proposal.author_id == user.id]
    total, page, rows = _page_of(
        select(func.count(Proposal.id)).where(*where),
        select(Proposal, Vision, Element, DraftEntry.text_id, DraftEntry.is_removed)
        .join(Vision, Vision.id == Proposal.vision_id)
        .join(Element, Element.id == Proposal.element_id)
        .outerjoin(DraftEntry, DraftEntry.element_id == Proposal.element_id)
        .where(*where)
        .order_by(Proposal.created_at.desc(), Proposal.id.desc()),
        page,
    )
    about = _labeller()
    result = []
    for proposal, vision, element, text_id, removed in rows:
        flags: list[str] = []
        if proposal.hidden_at is not None:
            flags.append("Hidden by a moderator: only you can see it")
        if proposal.status == ProposalStatus.OPEN.value:
            if removed:
                flags.append("Its element has been removed from the working draft")
            elif text_id is not None and text_id != proposal.base_text_id:
                flags.append("Stale: the element's text has changed since you wrote it")
        result.append(
            ProposalRow(
                id=proposal.id,
                about=about(vision, element),
                status=status_label(proposal),
                flags=tuple(flags),
                created_at=proposal.created_at,
                support=proposal.support_count,
                oppose=proposal.oppose_count,
                comments=proposal.comment_count,
            )
        )
    return ActivityPage(result, total, page)


def your_comments(user: User, page: int) -> ActivityPage:
    """The person's comments, replies and reflections, newest first, each with what it is about."""
    on_proposal = _ON_PROPOSAL
    where = [Comment.author_id == user.id]
    total, page, rows = _page_of(
        select(func.count(Comment.id)).where(*where),
        select(Comment, Vision, Element, on_proposal.id)
        .join(Vision, Vision.id == Comment.vision_id)
        .outerjoin(on_proposal, on_proposal.id == Comment.proposal_id)
        .join(Element, Element.id == func.coalesce(Comment.element_id, on_proposal.element_id))
        .where(*where)
        .order_by(Comment.created_at.desc(), Comment.id.desc()),
        page,
    )
    about = _labeller()
    result = []
    for comment, vision, element, proposal_id in rows:
        flags = [
            words
            for present, words in (
                (comment.retracted_at is not None, "Retracted"),
                (comment.hidden_at is not None, "Hidden by a moderator: only you can see it"),
                (comment.edited_at is not None, "Edited"),
            )
            if present
        ]
        kind = "Reply" if comment.parent_id else ("Comment" if comment.proposal_id else "Reflection")
        result.append(
            CommentRow(
                id=comment.id,
                about=about(vision, element),
                kind=kind,
                proposal_id=proposal_id,
                excerpt="" if comment.retracted_at else _excerpt(comment.body),
                flags=tuple(flags),
                created_at=comment.created_at,
            )
        )
    return ActivityPage(result, total, page)


def your_votes(user: User, page: int) -> ActivityPage:
    """The person's votes (support or oppose; cleared ones are not votes) on public proposals,
    most recently cast or changed first."""
    where = [Vote.user_id == user.id, Vote.value != 0, Proposal.hidden_at.is_(None)]
    total, page, rows = _page_of(
        select(func.count(Vote.id)).join(Proposal, Proposal.id == Vote.proposal_id).where(*where),
        select(Vote, Proposal, Vision, Element)
        .join(Proposal, Proposal.id == Vote.proposal_id)
        .join(Vision, Vision.id == Proposal.vision_id)
        .join(Element, Element.id == Proposal.element_id)
        .where(*where)
        .order_by(Vote.updated_at.desc(), Vote.id.desc()),
        page,
    )
    about = _labeller()
    result = [
        VoteRow(
            proposal_id=proposal.id,
            about=about(vision, element),
            value="Support" if vote.value > 0 else "Oppose",
            proposal_status=status_label(proposal),
            updated_at=vote.updated_at,
        )
        for vote, proposal, vision, element in rows
    ]
    return ActivityPage(result, total, page)
