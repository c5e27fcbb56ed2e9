"""The SQL conditions of the queue's newer filters (`queue.QueueFilters`): words in a proposal,
an ambition with its objectives and conditions, the author's name, and who is assigned.

Each is bounded: the words are looked up in the database's full-text index (word_search.py), the
name is a LIKE over display names; the ambition and the assignee read indexed columns. Each is a condition on the proposal alone (the queue's
queries read proposals only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import false, or_, select

from ..models import DraftEntry, Element, Proposal, Vision
from ..people_named import written_by_someone_named
from ..word_search import proposals_with_words
from ..coding.clauses import tagged_clause

if TYPE_CHECKING:
    from .queue import QueueFilters


def search_clause(words: str) -> Any:
    """SQL: the proposal's title, text or rationale holds every word of `words` (word_search)."""
    return proposals_with_words(words)


def elements_under(vision: Vision, ambition_key: str) -> Any:
    """SQL: the ids of the ambition and of the elements under it in the working draft."""
    ambition = select(Element.id).where(Element.vision_id == vision.id, Element.key == ambition_key).scalar_subquery()
    return select(DraftEntry.element_id).where(
        DraftEntry.vision_id == vision.id, or_(DraftEntry.element_id == ambition, DraftEntry.parent_element_id == ambition)
    )


def ambition_clause(vision: Vision, ambition_key: str) -> Any:
    """SQL: the proposal is on the ambition or on an element under it in the working draft."""
    return Proposal.element_id.in_(elements_under(vision, ambition_key))


def assignee_clause(assignee: str, viewer_id: int | None) -> Any:
    """SQL: assigned as `assignee` says: "me" (the viewer; nobody when there is no viewer), "none"
    (nobody), or the facilitator with that id."""
    if assignee == "none":
        return Proposal.assignee_id.is_(None)
    if assignee == "me":
        return Proposal.assignee_id == viewer_id if viewer_id is not None else false()
    return Proposal.assignee_id == int(assignee)


def narrowing(vision: Vision, filters: QueueFilters, viewer_id: int | None) -> tuple[list[Any], list[str]]:
    """The conditions of `filters`' words, ambition, author and assignee (none for those unset), and
    what the page should say about them (an author's name that too many people share)."""
    where, notes = [], []
    if filters.q:
        where.append(search_clause(filters.q))
    if filters.ambition_key:
        where.append(ambition_clause(vision, filters.ambition_key))
    if filters.author_name:
        named = written_by_someone_named(filters.author_name)
        where.append(named.condition)
        notes += [named.note] if named.note else []
    if filters.assignee:
        where.append(assignee_clause(filters.assignee, viewer_id))
    where += [tagged_clause(int(filters.tag), "proposal")] if filters.tag else []  # coding/: a tag of the codebook
    return where, notes
