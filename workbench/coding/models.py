"""The codebook: a vision's tags, and which proposals and comments (reflections included) carry them.

A tag is never deleted: merging it into another moves its taggings there and keeps it as a state,
"merged into" that tag, so that old audit events and links still say what it was. A facilitator may
publish an active tag as a *theme*: its name and counts then appear in the public consultation
reports (workbench/reporting); every other tag stays the facilitators' private note. A tagging is a
facilitator's note on one item; taking a tag off an item removes the link and records an audit
event (the item itself is untouched).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import UTCDateTime, utcnow

TAG_NAME_MAX = 60


class Tag(db.Model):
    """One code of a vision's codebook. `name_key` is the name folded for comparison (casefold), so
    that two tags of one vision never differ only by case."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"))
    name: Mapped[str] = mapped_column(String(TAG_NAME_MAX))
    # The name folded (casefold); NULL once merged, so that the name is free for a new tag.
    name_key: Mapped[str | None] = mapped_column(String(TAG_NAME_MAX * 3))
    state: Mapped[str] = mapped_column(String(12), default="active")  # "active" or "merged"
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tags.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a facilitator published it as a theme (its name and counts in the public reports); NULL
    # while it is private, and always once merged.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("vision_id", "name_key"),  # unique per vision, whatever the case
        CheckConstraint("state IN ('active', 'merged')", name="state_known"),
        CheckConstraint("(state = 'merged') = (merged_into_id IS NOT NULL)", name="merged_has_target"),
        CheckConstraint("published_at IS NULL OR state = 'active'", name="published_only_active"),
    )

    @property
    def merged(self) -> bool:
        return self.state == "merged"

    @property
    def published(self) -> bool:
        """Published as a theme: its name and counts appear in the public reports."""
        return self.published_at is not None


class ProposalTag(db.Model):
    """A proposal carries a tag (once)."""

    __tablename__ = "proposal_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    tagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("tag_id", "proposal_id"),  # also the index of "proposals with this tag"
        Index("ix_proposal_tags_proposal", "proposal_id", "tag_id"),
    )


class CommentTag(db.Model):
    """A comment or reflection carries a tag (once)."""

    __tablename__ = "comment_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
    tagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("tag_id", "comment_id"),
        Index("ix_comment_tags_comment", "comment_id", "tag_id"),
    )


class TagCount(db.Model):
    """How many items carry a tag, per element, kind ("proposals", "comments", "reflections") and
    whether they are hidden (hidden themselves, or a comment on a hidden proposal): the codebook's
    counts, kept by the database in the transaction of every change that alters one (triggers of
    migration 0028 on the taggings, on merging, which moves taggings, and on hiding and unhiding
    proposals and comments), so that reading them costs the codebook's size, not the data's.

    `element_id` is the item's element (a comment's: its own, else its proposal's), 0 for none; it is
    not a foreign key, for that 0. Rows are never deleted; a count may fall to 0.
    """

    __tablename__ = "tag_counts"

    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"))
    element_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    hidden: Mapped[bool] = mapped_column(Boolean)
    items: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        PrimaryKeyConstraint("tag_id", "element_id", "kind", "hidden"),
        CheckConstraint("kind IN ('proposals', 'comments', 'reflections')", name="kind_known"),
    )


# What can carry a tag, by the word the forms and the queue's clause use.
LINKS = {"proposal": (ProposalTag, ProposalTag.proposal_id), "comment": (CommentTag, CommentTag.comment_id)}
