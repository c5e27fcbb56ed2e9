"""The SQL conditions that find tagged items, for every list that filters by tag: the queue
(facilitation/queue_where.py), the responses list and the exports. No Flask."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select

from ..models import Comment, Proposal
from .models import CommentTag, ProposalTag

_ITEMS = {"proposal": (ProposalTag, ProposalTag.proposal_id, Proposal.id), "comment": (CommentTag, CommentTag.comment_id, Comment.id)}


def tagged_clause(tag_id: int, kind: str) -> Any:
    """SQL: the proposal (`kind` "proposal") or comment ("comment": reflections too) of the outer
    query carries tag `tag_id`. An EXISTS on the link table's unique (tag, item) index."""
    link, item_column, outer_id = _ITEMS[kind]
    return exists(select(link.id).where(link.tag_id == tag_id, item_column == outer_id))


def untagged_clause(kind: str) -> Any:
    """SQL: the item of the outer query carries no tag at all."""
    link, item_column, outer_id = _ITEMS[kind]
    return ~exists(select(link.id).where(item_column == outer_id))


def tagged_ids(tag_id: int, kind: str) -> Any:
    """SQL: the item of the outer query is among those that carry tag `tag_id`, read from the link
    table's (tag, item) index. Where the list is ordered by id, the database starts from those
    few rows for a rare tag, instead of probing every row of the list as `tagged_clause` does."""
    link, item_column, outer_id = _ITEMS[kind]
    return outer_id.in_(select(item_column).where(link.tag_id == tag_id))
