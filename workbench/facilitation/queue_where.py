"""The SQL conditions of the queue's newer filters (`queue.QueueFilters`): words in a proposal,
an ambition with its objectives and conditions, the author's name, and who is assigned.

Each is bounded: the words are a LIKE of at most `queue.SEARCH_LENGTH` characters (with `%` and `_`
escaped) over the open proposals of one vision, the name a LIKE over display names; the ambition
and the assignee read indexed columns. They expect the queue's join of Proposal, Element and
DraftEntry (`queue._joined`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import false, func, or_, select

from ..models import DraftEntry, Element, Proposal, User, Vision

if TYPE_CHECKING:
    from .queue import QueueFilters


def search_clause(words: str) -> Any:
    """SQL: the proposal's title, text or rationale contains `words`, in any case (ASCII letters
    only on SQLite, whose lower() folds nothing else)."""
    return or_(*(column.icontains(words, autoescape=True) for column in (Proposal.title, Proposal.body, Proposal.rationale)))


def ambition_clause(vision: Vision, ambition_key: str) -> Any:
    """SQL: the proposal is on the ambition or on an element under it in the working draft."""
    ambition = select(Element.id).where(Element.vision_id == vision.id, Element.key == ambition_key).scalar_subquery()
    return or_(DraftEntry.element_id == ambition, DraftEntry.parent_element_id == ambition)


def author_clause(name: str) -> Any:
    """SQL: the author's display name contains `name`, in any case; deleted accounts are never found
    by name (as the proposals list's "Proposed by")."""
    named = select(User.id).where(User.is_deleted.is_(False), func.lower(User.display_name).contains(name.lower(), autoescape=True))
    return Proposal.author_id.in_(named)


def assignee_clause(assignee: str, viewer_id: int | None) -> Any:
    """SQL: assigned as `assignee` says: "me" (the viewer; nobody when there is no viewer), "none"
    (nobody), or the facilitator with that id."""
    if assignee == "none":
        return Proposal.assignee_id.is_(None)
    if assignee == "me":
        return Proposal.assignee_id == viewer_id if viewer_id is not None else false()
    return Proposal.assignee_id == int(assignee)


def narrowing(vision: Vision, filters: QueueFilters, viewer_id: int | None) -> list[Any]:
    """The conditions of `filters`' words, ambition, author and assignee (none for those unset)."""
    where = []
    if filters.q:
        where.append(search_clause(filters.q))
    if filters.ambition_key:
        where.append(ambition_clause(vision, filters.ambition_key))
    if filters.author_name:
        where.append(author_clause(filters.author_name))
    if filters.assignee:
        where.append(assignee_clause(filters.assignee, viewer_id))
    return where
