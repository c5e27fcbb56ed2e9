"""The domain model (DESIGN.md §2), as typed SQLAlchemy 2 models.

Nothing here is deleted by an ordinary action: withdrawn, rejected, retracted and hidden are states.
Element texts, proposal revisions and published versions are immutable: the ORM refuses to update or
delete them (see the listeners at the bottom) and the database refuses too (triggers created by the
migrations).
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timezone
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    event,
    select,
    text,
    types,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .publication import NOT_PUBLISHED, name_shown


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(types.TypeDecorator):
    """Stores naive UTC (portable across SQLite and PostgreSQL); always returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class Role(str, enum.Enum):
    VOLUNTEER = "volunteer"
    FACILITATOR = "facilitator"
    ADMIN = "admin"


ELEMENT_KINDS = ("statement", "ambition", "objective", "condition")


# --- accounts -------------------------------------------------------------------------------------


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised (NFC, lower case); NULL once the person deleted their account.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(20), default=Role.VOLUNTEER.value)
    is_deactivated: Mapped[bool] = mapped_column(Boolean, default=False)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Returned by get_id(): replacing it signs the person out everywhere.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # About you (issue 17, item 3), asked once and changeable: whether the person responds as an
    # individual or for an organisation (NULL until they say), and how their contributions are
    # published: "name" (with their name), "anonymous" (as "a participant") or "private" (not at
    # all: seen by facilitators only, counted in analysis). workbench/accounts/publication.py
    # holds the rule; everyone was published with their name before the question was asked.
    responding_as: Mapped[str | None] = mapped_column(String(12))
    organisation: Mapped[str] = mapped_column(String(200), default="", server_default="")
    publish_as: Mapped[str] = mapped_column(String(12), default="name", server_default="name")

    __table_args__ = (
        CheckConstraint("role IN ('volunteer', 'facilitator', 'admin')", name="role_known"),
        CheckConstraint("responding_as IN ('individual', 'organisation')", name="responding_as_known"),
        CheckConstraint("publish_as IN ('name', 'anonymous', 'private')", name="publish_as_known"),
        # The people whose contributions are not published (publication.published_by): few rows.
        Index("ix_users_publish_as", "publish_as", "id"),
        # The accounts list by role, newest first (migration 0009).
        Index("ix_users_role_id", "role", "id"),
    )

    # The words of names and addresses (accounts.services.find_accounts), owned by migration 0009 and
    # left out of the schema comparison: on SQLite the FTS5 table `account_words` and its shadow
    # tables (named after it), on PostgreSQL the generated column `search_words` and its GIN index.
    # The trigrams of names (migration 0028: `account_words_trigrams`, `ix_users_search_words_trigrams`)
    # share these prefixes, and so stay out of the comparison too.
    SEARCH_OBJECTS = ("account_words", "search_words", "ix_users_search_words")

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated or deleted accounts cannot sign in
        return not (self.is_deactivated or self.is_deleted)

    @property
    def is_facilitator(self) -> bool:
        return self.role in (Role.FACILITATOR.value, Role.ADMIN.value)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def public_name(self) -> str:
        """The name the public sees on this person's contributions (workbench/publication.py)."""
        return name_shown(self.display_name, is_deleted=self.is_deleted, publish_as=self.publish_as)

    @property
    def is_published(self) -> bool:
        """Whether the public sees this person's contributions at all (see `published_by`)."""
        return self.publish_as != NOT_PUBLISHED


class PasswordResetToken(db.Model):
    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- the vision -----------------------------------------------------------------------------------


class Vision(db.Model):
    __tablename__ = "visions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    # The consultation window: proposing, voting and commenting happen only inside it.
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Number of the newest published version (0 before the first); kept with the versions table.
    latest_version_number: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<Vision {self.slug}>"

    def window_state(self, now: datetime | None = None) -> str:
        """'unscheduled', 'upcoming', 'open' or 'closed': the consultation window's state now."""
        now = now or utcnow()
        if self.opens_at is None:
            return "unscheduled"
        if now < self.opens_at:
            return "upcoming"
        if self.closes_at is not None and now >= self.closes_at:
            return "closed"
        return "open"

    def is_open(self, now: datetime | None = None) -> bool:
        """Whether people can propose, vote, comment and reflect now."""
        return self.window_state(now) == "open"


class Element(db.Model):
    """Identity of a piece of the vision. Its key (`objective-12`) is stable forever."""

    __tablename__ = "elements"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    vision: Mapped[Vision] = relationship()

    __table_args__ = (
        UniqueConstraint("vision_id", "key"),
        CheckConstraint(
            "kind IN ('statement', 'ambition', 'objective', 'condition')", name="kind_known"
        ),
    )


class ElementText(db.Model):
    """An immutable text of an element: never updated, never deleted."""

    __tablename__ = "element_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("elements.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who wrote it; a text that came from a proposal is that proposal's result_text.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    element: Mapped[Element] = relationship()


class DraftEntry(db.Model):
    """The working draft: where each element sits and which text is current.

    `lock_version` gives optimistic locking: a save from an out-of-date page raises StaleDataError.
    """

    __tablename__ = "draft_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"), index=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("elements.id"), unique=True)
    parent_element_id: Mapped[int | None] = mapped_column(ForeignKey("elements.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text_id: Mapped[int] = mapped_column(ForeignKey("element_texts.id"))
    # Removed from the next version; kept so that history and open proposals still resolve.
    is_removed: Mapped[bool] = mapped_column(Boolean, default=False)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    element: Mapped[Element] = relationship(foreign_keys=[element_id])
    text: Mapped[ElementText] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}


class DraftChange(db.Model):
    """One change made to the working draft, with who and why; feeds the next changelog."""

    __tablename__ = "draft_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"), index=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("elements.id"))
    # import, edit, add, remove, reorder, accept
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    text_id: Mapped[int | None] = mapped_column(ForeignKey("element_texts.id"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The version that published this change; NULL while it waits in the draft.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))


class Version(db.Model):
    """A published version: immutable, with a self-contained snapshot (see snapshots.py)."""

    __tablename__ = "versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"))
    number: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    # The public content hash (hex): sha256 of the canonical JSON of what /v/<n>.json publishes, less
    # its hash, signature and permalink, so anyone can recompute it (visions/verification.py).
    content_hash: Mapped[str] = mapped_column(String(64))
    # Canonical JSON text of the internal snapshot (with text ids); its sha256 is `snapshot_hash`.
    snapshot: Mapped[str] = mapped_column(Text)
    snapshot_hash: Mapped[str | None] = mapped_column(String(64))
    # Version n-1's content hash (hex), covered by this version's hash: None for version 1.
    previous_hash: Mapped[str | None] = mapped_column(String(64))
    # The site's Ed25519 signature of the hashed bytes and the public key that made it (base64).
    signature: Mapped[str | None] = mapped_column(String(100))
    signing_key: Mapped[str | None] = mapped_column(String(60))
    # JSON list of changelog entries (accepted proposals, direct edits, rejections) with credits.
    changelog: Mapped[str] = mapped_column(Text, default="[]")

    vision: Mapped[Vision] = relationship()
    published_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("vision_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )


# --- proposals and deliberation -------------------------------------------------------------------


class ProposalStatus(str, enum.Enum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Proposal(db.Model):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"))
    element_id: Mapped[int] = mapped_column(ForeignKey("elements.id"))
    kind: Mapped[str] = mapped_column(String(20), default="edit")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The latest revision's base text and proposed text (each revision is kept in full).
    base_text_id: Mapped[int] = mapped_column(ForeignKey("element_texts.id"))
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    # Which characters of the base text the latest revision changes, per field:
    # {"title": [[start, end], ...], "body": [...]} (`diffing.changed_ranges`). Written with the
    # text (proposals.edit.changed_ranges), so telling competing proposals apart needs no diff.
    changed_ranges: Mapped[dict[str, list[list[int]]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=ProposalStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revision_count: Mapped[int] = mapped_column(Integer, default=1)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    accepted_with_changes: Mapped[bool] = mapped_column(Boolean, default=False)
    result_text_id: Mapped[int | None] = mapped_column(ForeignKey("element_texts.id"))
    # Tallies kept with the votes and comments so that lists sort without aggregating.
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    oppose_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    # Moderation: hidden content leaves every public route; its author still sees it.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    # The facilitator looking after it in the queue (facilitation/assignment.py); None: nobody yet.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # A proposal to move its element (kind "move", migration 0016): the ambition it would go under
    # (None: the top level, for an ambition) and its position there among the siblings of its kind.
    target_parent_id: Mapped[int | None] = mapped_column(ForeignKey("elements.id"))
    target_position: Mapped[int | None] = mapped_column(Integer)
    # The queue's "Conflicted", kept (migration 0017, facilitation/kept_flags.py): the working text
    # the latest revision was last rebased onto (strictly), and whether that was clean. Known only
    # while that text is still the element's working text; otherwise the queue rebases it itself.
    rebase_tried_on_id: Mapped[int | None] = mapped_column(ForeignKey("element_texts.id"))
    rebase_clean: Mapped[bool | None] = mapped_column(Boolean)
    # A proposal to add an element (kind "add", migration 0018): the kind of the new element
    # (ambition, objective or condition); its title and body are the proposal's, and where it would
    # go is target_parent_id / target_position. NULL for every other kind.
    new_element_kind: Mapped[str | None] = mapped_column(String(20))

    vision: Mapped[Vision] = relationship()
    element: Mapped[Element] = relationship(foreign_keys=[element_id])
    target_parent: Mapped[Element | None] = relationship(foreign_keys=[target_parent_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    base_text: Mapped[ElementText] = relationship(foreign_keys=[base_text_id])

    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'accepted', 'rejected', 'withdrawn')", name="status_known"
        ),
        # By status, visible ones first, in the orders of the lists and the queue (migration 0010): a
        # page, or a count, of the open proposals reads these indexes alone.
        # Each ends in the columns the queue's filters read (element, base text, author, assignee),
        # so that counting the proposals a filter keeps reads no proposal row either.
        Index(
            "ix_proposals_vision_status",
            "vision_id", "status", "hidden_at", "created_at", "id", "element_id", "base_text_id", "author_id", "assignee_id",
        ),
        Index("ix_proposals_element_status", "element_id", "status", "hidden_at", "created_at", "id"),
        # The groups the queue's competing check reads: open ones on one element and base text.
        Index("ix_proposals_rivals", "element_id", "base_text_id", "status", "hidden_at", "id", "revision_count"),
        # The queue's "Conflicted" (migration 0017, facilitation/queue_flags.py): the few whose kept
        # rebase failed, those under a removed ambition, and, per element, whether any open one's
        # rebase is not kept for the working text (read from this index alone).
        Index("ix_proposals_rebase_failed", "rebase_clean", "vision_id", "status"),
        Index("ix_proposals_target_parent", "target_parent_id", "status"),
        Index("ix_proposals_kept_rebase", "element_id", "status", "rebase_tried_on_id", "rebase_clean", "base_text_id"),
    )


# --- the proposals lists' sorts (proposals.services.SORTS) ------------------------------------------
# A proposal is contested when many support it AND many oppose it: the smaller of its two tallies.
PROPOSAL_CONTESTED = case(
    (Proposal.support_count < Proposal.oppose_count, Proposal.support_count), else_=Proposal.oppose_count
)
PROPOSAL_VOTES = Proposal.support_count + Proposal.oppose_count

# Partial indexes of visible proposals (migrations 0004 and 0005), one per sort, each ending in the
# sort's own tie-breakers: a page walks an index backwards and stops after its rows instead of
# sorting every proposal of the vision (10,000 in the benchmark).
_VISIBLE = text("hidden_at IS NULL")
Index(
    "ix_proposals_visible_created", Proposal.vision_id, Proposal.created_at, Proposal.id,
    sqlite_where=_VISIBLE, postgresql_where=_VISIBLE,
)
Index(
    "ix_proposals_visible_support", Proposal.vision_id, Proposal.support_count, Proposal.created_at, Proposal.id,
    sqlite_where=_VISIBLE, postgresql_where=_VISIBLE,
)
Index(
    "ix_proposals_visible_discussed", Proposal.vision_id, Proposal.comment_count, Proposal.created_at, Proposal.id,
    sqlite_where=_VISIBLE, postgresql_where=_VISIBLE,
)
# Autogenerate cannot compare an expression index (SQLite does not even reflect it): migrations own
# it, `schema_compared` leaves it out, and tests/test_migrations.py checks it exists.
EXPRESSION_INDEXES = frozenset({"ix_proposals_visible_contested"})
Index(
    "ix_proposals_visible_contested",
    Proposal.vision_id, PROPOSAL_CONTESTED, PROPOSAL_VOTES, Proposal.created_at, Proposal.id,
    sqlite_where=_VISIBLE, postgresql_where=_VISIBLE,
)


def waiting(proposal: Any = Proposal) -> Any:
    """SQL: the proposal (or an alias of Proposal) is open and visible: it waits in the queue."""
    return and_(proposal.status == ProposalStatus.OPEN.value, proposal.hidden_at.is_(None))


# The queue's "most support first", waiting longest among equals (migration 0010).
Index(
    "ix_proposals_vision_status_support",
    Proposal.vision_id, Proposal.status, Proposal.hidden_at, Proposal.support_count.desc(), Proposal.created_at, Proposal.id,
    Proposal.element_id, Proposal.base_text_id, Proposal.author_id, Proposal.assignee_id,
)

# Assigned ones only (migration 0010): most proposals are assigned to nobody, and an index whose
# entries are mostly NULL looks useless to SQLite's planner for "assigned to me".
_ASSIGNED = text("assignee_id IS NOT NULL")
Index(
    "ix_proposals_assigned", Proposal.assignee_id, Proposal.status, Proposal.hidden_at, Proposal.created_at, Proposal.id,
    sqlite_where=_ASSIGNED, postgresql_where=_ASSIGNED,
)

# Whom a proposal can be assigned to (facilitation.assignment.facilitators), by name: a few among all
# the accounts (migration 0010). The planner's statistics cannot tell that a role is rare, so this
# index holds only them, and a query must name the roles in its SQL (`staff()`), not as parameters.
STAFF_ROLES = (Role.FACILITATOR.value, Role.ADMIN.value)
_STAFF = text("role IN ('facilitator', 'admin')")
Index("ix_users_staff_by_name", User.display_name, User.id, sqlite_where=_STAFF, postgresql_where=_STAFF)


# Authors found by part of their name (people_named.written_by_someone_named): fragments of one or
# two characters read this narrow index of names, not every account's row (migration 0010).
Index("ix_users_display_name", User.display_name, User.is_deleted, User.id)


def published_by(author_id: Any) -> Any:
    """SQL: the author of a contribution lets the public see it (publish_as is not "private").

    The one rule for "not published at all" in queries: every public list, count shown to the public
    beside names, feed, fragment and export of proposals, comments, reflections and aligned work adds
    it. Few people choose it, so the subquery reads a handful of rows of ix_users_publish_as.
    """
    return author_id.not_in(select(User.id).where(User.publish_as == NOT_PUBLISHED))


def staff() -> Any:
    """SQL: the account is a facilitator's or an administrator's (the roles written into the SQL)."""
    return User.role.in_(bindparam(None, list(STAFF_ROLES), literal_execute=True, expanding=True))

# The words of proposals (workbench/word_search.py, migration 0010): an FTS5 table and its shadow
# tables on SQLite, the generated column `search_words` (as User.SEARCH_OBJECTS) and its GIN index
# on PostgreSQL; migrations own them.
WORD_SEARCH_TABLE = "proposal_words"
WORD_SEARCH_INDEX = "ix_proposals_search_words"
# Search across everything (workbench/search/, migration 0021): the FTS5 table `search_entry_words`
# and its shadow tables on SQLite; the GIN index of `search_entries.search_words` on PostgreSQL.
SEARCH_ENTRY_OBJECTS = ("search_entry_words", "ix_search_entries_search_words")


def schema_compared(item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's `include_object`: everything but the expression indexes (see EXPRESSION_INDEXES)
    and the word search's tables and index."""
    if type_ == "table" and name is not None and name.startswith(WORD_SEARCH_TABLE):
        return False
    if name is not None and name.startswith(User.SEARCH_OBJECTS):
        return False
    if name is not None and name.startswith(SEARCH_ENTRY_OBJECTS):
        return False
    return not (type_ == "index" and (name in EXPRESSION_INDEXES or name == WORD_SEARCH_INDEX))


class ProposalRevision(db.Model):
    """Every version of a proposal its author wrote; immutable."""

    __tablename__ = "proposal_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    number: Mapped[int] = mapped_column(Integer)
    base_text_id: Mapped[int] = mapped_column(ForeignKey("element_texts.id"))
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("proposal_id", "number"),)


class Vote(db.Model):
    """One per person and proposal; value +1 support, -1 oppose, 0 cleared (kept, not deleted)."""

    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("proposal_id", "user_id"),
        CheckConstraint("value IN (-1, 0, 1)", name="value_known"),
        # Each vote recounts its proposal's tallies: counted from this index alone.
        Index("ix_votes_proposal_value", "proposal_id", "value"),
    )


class Comment(db.Model):
    """A comment on a proposal, or a reflection on an element; one level of replies."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    element_id: Mapped[int | None] = mapped_column(ForeignKey("elements.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    # A reflection on one sentence: the element text it was written on and the sentence's words in
    # it, as character offsets on word boundaries (`body[start:end]`; workbench/sentences.py). All
    # three NULL for any other comment. Element texts never change, so this never needs updating.
    sentence_text_id: Mapped[int | None] = mapped_column(ForeignKey("element_texts.id"))
    sentence_start: Mapped[int | None] = mapped_column(Integer)
    sentence_end: Mapped[int | None] = mapped_column(Integer)

    author: Mapped[User] = relationship(foreign_keys=[author_id])

    __table_args__ = (
        CheckConstraint(
            "(proposal_id IS NOT NULL) OR (element_id IS NOT NULL)", name="has_subject"
        ),
        Index("ix_comments_proposal_parent_created", "proposal_id", "parent_id", "created_at"),
        Index("ix_comments_element_parent_created", "element_id", "parent_id", "created_at"),
    )


class CommentRevision(db.Model):
    """Earlier wordings of an edited comment; the newest wording lives on the comment."""

    __tablename__ = "comment_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(db.Model):
    """Someone asked the facilitators to look at a comment, reflection or proposal."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))  # comment | proposal
    subject_id: Mapped[int] = mapped_column(Integer)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(20), default="")

    __table_args__ = (Index("ix_reports_subject", "subject_type", "subject_id"),)


# --- aligned work ---------------------------------------------------------------------------------


class AlignedWork(db.Model):
    """An organisation's initiative that supports elements of the vision.

    The submitter's latest wording waits in `pending_*` while screened; the approved wording stays
    public meanwhile (the plain columns).
    """

    __tablename__ = "aligned_work"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"), index=True)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # pending (never approved), approved, rejected (never approved)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    screening_reason: Mapped[str] = mapped_column(Text, default="")
    # JSON: the submitted wording waiting for screening, or NULL.
    pending: Mapped[Any | None] = mapped_column(JSON)
    # The approved public wording.
    organisation: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="planned")
    link: Mapped[str] = mapped_column(String(500), default="")
    # Never public.
    contact: Mapped[str] = mapped_column(String(254), default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # The register's order: a page of approved initiatives reads the index instead of sorting.
        Index("ix_aligned_work_register", "vision_id", "state", "organisation", "title", "id"),
    )


class AlignedWorkElement(db.Model):
    """An approved initiative supports an element."""

    __tablename__ = "aligned_work_elements"

    aligned_work_id: Mapped[int] = mapped_column(ForeignKey("aligned_work.id"), primary_key=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("elements.id"), primary_key=True, index=True)


# --- audit ----------------------------------------------------------------------------------------


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    vision_id: Mapped[int | None] = mapped_column(ForeignKey("visions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[Any] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_audit_events_subject", "subject_type", "subject_id"),)


def record_event(
    action: str,
    subject_type: str,
    subject_id: int | None,
    *,
    actor: User | None = None,
    vision_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the session (flushed with the change it records)."""
    event_ = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        vision_id=vision_id,
        details=details,
    )
    db.session.add(event_)
    # Whom to tell is decided off the request, by the worker (workbench/notifications/telling.py).
    db.session.add(EventToTell(event=event_))
    return event_


# --- following and notifications (workbench/notifications/) --------------------------------------


class EventToTell(db.Model):
    """An audit event whose people have not been told yet: a job written in the transaction of the
    event, taken by the worker, which writes the notifications and mails and removes this row in
    one transaction (so an event is told once, or again after a failure, never lost)."""

    __tablename__ = "events_to_tell"

    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), primary_key=True)
    # When the worker may take it: when it was written, or a while after a failed attempt.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))

    event: Mapped[AuditEvent] = relationship()

    __table_args__ = (Index("ix_events_to_tell_due", "due_at", "audit_event_id"),)


FOLLOWED_THINGS = ("vision", "element", "proposal")


class Follow(db.Model):
    """A person follows a vision (its new versions), an element (its new proposals and
    reflections) or a proposal (its comments and decision). Unfollowing removes the row: a
    preference, not content."""

    __tablename__ = "follows"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    thing_type: Mapped[str] = mapped_column(String(10))
    thing_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("thing_type IN ('vision', 'element', 'proposal')", name="thing_known"),
        UniqueConstraint("user_id", "thing_type", "thing_id"),
        # The followers of one thing, read by the worker when it tells them.
        Index("ix_follows_thing", "thing_type", "thing_id", "user_id"),
    )


class Notification(db.Model):
    """What one person is told about one thing, in the app (and by mail, as they chose).

    Events of one kind on one thing merge into the person's unread notification about it
    (`event_count`, `last_event_id`), so five comments make one "5 new comments". Never deleted:
    read is a state (`read_at`). `mail_id` is the immediate mail that told of it, while it may still
    be rewritten to count later events; `digest_due` puts it in the next daily digest.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30))
    about_type: Mapped[str] = mapped_column(String(20))
    about_id: Mapped[int] = mapped_column(Integer)
    vision_id: Mapped[int | None] = mapped_column(ForeignKey("visions.id"))
    first_event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"))
    last_event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"))
    event_count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_mail.id"))
    digest_due: Mapped[bool] = mapped_column(Boolean, default=False)

    last_event: Mapped[AuditEvent] = relationship(foreign_keys=[last_event_id])

    __table_args__ = (
        CheckConstraint("event_count >= 1", name="counts_events"),
        # A person's notifications, newest first (the notifications page pages by id).
        Index("ix_notifications_person", "user_id", "id"),
    )


_UNREAD = text("read_at IS NULL")
# At most one unread notification per person, kind and thing: later events merge into it. It also
# serves the header's unread count.
Index(
    "ix_notifications_unread", Notification.user_id, Notification.kind, Notification.about_type, Notification.about_id,
    unique=True, sqlite_where=_UNREAD, postgresql_where=_UNREAD,
)
# The unread notifications about one thing, found when an event about it is told to its followers.
Index(
    "ix_notifications_unread_about", Notification.about_type, Notification.about_id, Notification.kind,
    sqlite_where=_UNREAD, postgresql_where=_UNREAD,
)
_DIGEST_DUE = text("digest_due")
# Who has something for the daily digest.
Index(
    "ix_notifications_digest_due", Notification.user_id, Notification.id,
    sqlite_where=_DIGEST_DUE, postgresql_where=_DIGEST_DUE,
)

EMAIL_HOW = ("immediately", "daily", "never")


class EmailChoice(db.Model):
    """How a person wants mail about one kind of notification (notifications/kinds.py has the
    defaults, used where a person has no row)."""

    __tablename__ = "email_choices"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    how: Mapped[str] = mapped_column(String(12))

    __table_args__ = (CheckConstraint("how IN ('immediately', 'daily', 'never')", name="how_known"),)


# --- immutability in the ORM (the database enforces it too: see migrations) ----------------------


class ImmutableError(RuntimeError):
    """Raised when code tries to change or delete something that is immutable."""


IMMUTABLE_MODELS = (Version, ElementText, ProposalRevision)


def _refuse(mapper: Any, connection: Any, target: Any) -> None:
    raise ImmutableError(f"{type(target).__name__} {target.id} is immutable")


for _model in IMMUTABLE_MODELS:
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)


# --- mail waiting to be delivered (workbench/outbox.py) -------------------------------------------

MAIL_STATES = ("waiting", "sent", "failed", "withheld")


class OutgoingMail(db.Model):
    """One mail to one address, written in the transaction of the change it tells of and delivered
    after the commit by the mail worker (workbench/outbox.py). Never deleted.

    `state`: waiting (to be delivered from `send_after`; a worker delivering it has moved
    `send_after` to the end of its claim), sent (the server accepted it at `sent_at`), failed (refused
    for good, or not accepted after the most attempts: `flask mail status` lists it and `flask mail
    retry` puts it back), withheld (its account was deleted or deactivated before it went).
    """

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Message-ID header, made when the mail is written: the same on every attempt.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    # Further headers, name to value (e.g. List-Unsubscribe).
    headers: Mapped[Any] = mapped_column(JSON, default=dict)
    # Small text attachments: [{"filename", "content_type", "content"}] (a webinar's .ics file).
    attachments: Mapped[Any | None] = mapped_column(JSON, default=list)
    # The account the mail is for, if any: nothing is delivered once it is deleted or deactivated.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(10), default="waiting")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("state IN ('waiting', 'sent', 'failed', 'withheld')", name="state_known"),
        CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name="sent_at_when_sent"),
        # The mail not (yet) sent, by state and time: the worker's "what is due" reads it alone, and
        # it stays as small as the queue however many mails were sent.
        Index(
            "ix_outgoing_mail_unsent", "state", "send_after", "id",
            sqlite_where=text("sent_at IS NULL"), postgresql_where=text("sent_at IS NULL"),
        ),
    )


# --- webinars (workbench/webinars/) ----------------------------------------------------------------

REGISTRATION_STATES = ("registered", "waiting", "cancelled")


class Webinar(db.Model):
    """A session about a vision that people register for, with a capacity and a waiting list.

    The joining link is private: only people registered (and facilitators) ever see it.
    `places_given` counts the places in line handed out (webinars/registrations.py): each
    registration takes the next one, under a lock on this row, so the order of the line is the order
    in which the registrations were committed.
    """

    __tablename__ = "webinars"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    joining_link: Mapped[str] = mapped_column(String(500))
    recording_link: Mapped[str] = mapped_column(String(500), default="")
    places_given: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_webinars_vision_starts", "vision_id", "starts_at", "id"),
    )


class Registration(db.Model):
    """A person's place at a webinar: registered, waiting (in the order of `place`) or cancelled.
    One row per person and webinar; cancelling is a state, and registering again reuses the row."""

    __tablename__ = "webinar_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinars.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(12))
    # The place in line (the webinar's `places_given` when this registration was made).
    place: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the place was taken (again, after a cancellation), given from the waiting list, cancelled.
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the reminder the day before was queued (or found not needed): never twice.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    webinar: Mapped[Webinar] = relationship()
    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("webinar_id", "user_id"),  # one registration per person and webinar
        CheckConstraint("state IN ('registered', 'waiting', 'cancelled')", name="state_known"),
        Index("ix_webinar_registrations_line", "webinar_id", "state", "place"),
        Index("ix_webinar_registrations_user", "user_id"),
    )
