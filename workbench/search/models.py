"""What search reads: one row per searchable thing, written only by the database (migration 0021).

Triggers on `proposals`, `comments` and `aligned_work` keep `search_entries` in step with every
write (a new revision, an edit, hiding, retracting, screening), on SQLite and on PostgreSQL alike;
the app never writes these rows. The words of each row are indexed by the database's own engine:
on SQLite the FTS5 table `search_entry_words` (external content over this table, `porter
unicode61`), kept in step by triggers on this table; on PostgreSQL the generated column
`search_words` (the `english` tsvector of title, body and extra, weighted A, B, C) with a GIN
index. Both belong to the migration, not to this model (`SEARCH_ENTRY_OBJECTS`, left out of the
schema comparison).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import UTCDateTime

# What a search finds, in the users' words (the `kind` filter's choices, in this order).
SEARCHED_KINDS = {
    "proposal": "Proposals",
    "comment": "Comments",
    "reflection": "Reflections",
    "aligned_work": "Aligned work",
}

# Who may find a row: everyone ("public"); facilitators only, marked as such ("hidden" by the
# moderators, or "retracted" by its author); nobody ("unpublished": aligned work not approved in
# screening, whose public wording is empty anyway).
VISIBILITIES = ("public", "hidden", "retracted", "unpublished")


class SearchEntry(db.Model):
    """One proposal (its current title, text and rationale), comment, reflection or initiative of
    aligned work (title, description, organisation), as search finds it."""

    __tablename__ = "search_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    # The id of the proposal, comment or initiative in its own table.
    subject_id: Mapped[int] = mapped_column(Integer)
    # The element it is about: a proposal's, the element of a comment's proposal, a reflection's;
    # None for aligned work, which supports several (aligned_work_elements).
    element_id: Mapped[int | None] = mapped_column(Integer)
    # The proposal itself, or the one a comment is on.
    proposal_id: Mapped[int | None] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # A proposal's rationale; an initiative's organisation.
    extra: Mapped[str] = mapped_column(Text, default="")
    # The filters as words for SQLite's index ("kproposal e12"; an initiative: "kalignedwork e3 e7"),
    # so that a search within a kind or an element is answered by the index alone (`facet_words`).
    facets: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(12))
    # A comment on a hidden proposal is hidden with it.
    proposal_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("kind", "subject_id"),
        CheckConstraint("kind IN ('proposal', 'comment', 'reflection', 'aligned_work')", name="kind_known"),
        CheckConstraint("visibility IN ('public', 'hidden', 'retracted', 'unpublished')", name="visibility_known"),
        # Filtered searches: the entries of one vision and kind, or one element, newest first.
        Index("ix_search_entries_vision_kind", "vision_id", "kind", "id"),
        Index("ix_search_entries_element", "element_id", "id"),
    )


def facet_words(kind: str, element_id: int | None) -> str:
    """The FTS5 query (over the `facets` column) for a kind ("" for any) and an element (None for
    any), or "" for neither: the words the triggers write into `facets` (migration 0021)."""
    words = []
    if kind:
        words.append('"k' + kind.replace("_", "") + '"')
    if element_id is not None:
        words.append(f'"e{int(element_id)}"')
    return " AND ".join(words)
