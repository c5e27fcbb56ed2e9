"""Votes: one per person and proposal, support, oppose or cleared (a cleared vote keeps its row,
value 0), with the proposal's tallies recounted from the rows in the same transaction.

A vote runs a fixed few statements (tests/test_votes.py counts them): the proposal's few columns,
its row locked on PostgreSQL (`proposal_for_vote`), the vote written (`_SET_VOTE`/`_CLEAR_VOTE`),
and the recount. SQLite write requests hold the write lock from `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import permissions
from ..drafting.window import closed_words
from ..exceptions import NotAllowed, NotFound, ValidationError
from ..models import Proposal, ProposalStatus, User, UTCDateTime, Vision, Vote, db, published_by, utcnow

VOTE_VALUES = {"support": 1, "oppose": -1, "clear": 0}
SIGN_IN_TO_VOTE = "Sign in to vote on this proposal."


# --- words ------------------------------------------------------------------------------------------


def vote_refusal(user: Any, proposal: Proposal | VoteTarget) -> str | None:
    """Why `user` cannot vote on `proposal` (None when they can)."""
    if permissions.can_vote(user, proposal):
        return None
    if proposal.hidden_at is not None:
        return "This proposal has been hidden by the facilitators, so it cannot be voted on."
    if permissions.is_member(user) and proposal.author_id == user.id:
        return "This is your proposal, so you cannot vote on it. The tallies count the votes of others."
    if proposal.status != ProposalStatus.OPEN.value:
        word = {"accepted": "accepted", "rejected": "rejected", "withdrawn": "withdrawn"}.get(proposal.status, proposal.status)
        return f"This proposal has been {word}, so voting on it has ended."
    if not proposal.vision.is_open():
        return closed_words(proposal.vision, "vote")
    return SIGN_IN_TO_VOTE


def vote_words(value: int | None) -> str:
    """The person's own vote, stated: "You support this proposal"."""
    if value == 1:
        return "You support this proposal."
    if value == -1:
        return "You oppose this proposal."
    return "You have not voted on this proposal."


# --- votes ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoteResult:
    value: int  # +1, -1 or 0 (cleared)
    changed: bool
    support: int
    oppose: int


@dataclass(slots=True)
class VoteWindow:
    """The consultation window of a proposal's vision, as a vote reads it (two columns, no Vision
    loaded): the Vision's own rules answer `window_state()` and `is_open()`."""

    opens_at: datetime | None
    closes_at: datetime | None
    window_state = Vision.window_state
    is_open = Vision.is_open


@dataclass(slots=True, frozen=True)
class VoteAuthor:
    """Who wrote the proposal, as a vote reads it: whether the public may see their proposals
    (permissions.can_see_contribution)."""

    id: int
    is_published: bool


@dataclass(slots=True)
class VoteTarget:
    """A proposal as a vote needs it: who wrote it, its state and tallies, its vision's window.
    Read by `proposal_for_vote`, which locks the row (on PostgreSQL) for the rest of the
    transaction; it stands for the proposal only inside that transaction."""

    id: int
    author_id: int
    status: str
    hidden_at: datetime | None
    support_count: int
    oppose_count: int
    vision: VoteWindow
    author: VoteAuthor


# A vote is the busiest write (DESIGN.md §6: 800 a second), so its statements are built once, with
# bound parameters (SQLAlchemy then reuses their compiled form), and read or write columns, never
# ORM objects: loading the proposal as an object (its texts, JSON ranges and vision) cost more than
# all of the vote's SQL together.


def _tally(value: int) -> Any:
    return (
        select(func.count(Vote.id))
        .where(Vote.proposal_id == bindparam("proposal_id"), Vote.value == value)
        .scalar_subquery()
    )


_LOCK = (
    select(Proposal.status, Proposal.hidden_at, Proposal.support_count, Proposal.oppose_count)
    .where(Proposal.id == bindparam("proposal_id"))
    .with_for_update(of=Proposal)
)
_VOTE_TARGET = (
    select(Proposal.id, Proposal.author_id, Proposal.status, Proposal.hidden_at, Proposal.support_count, Proposal.oppose_count)
    .add_columns(Vision.opens_at, Vision.closes_at, published_by(Proposal.author_id).label("author_published"))
    .join(Vision, Vision.id == Proposal.vision_id)
    .where(Proposal.id == bindparam("proposal_id"))
    .with_for_update(of=Proposal)
)
_RECOUNT = (
    update(Proposal)
    .where(Proposal.id == bindparam("proposal_id"))
    .values(support_count=_tally(1), oppose_count=_tally(-1))
    .returning(Proposal.support_count, Proposal.oppose_count)
)

# One vote per person and proposal, changed in place; each statement returns a row only when it
# changed something, so no read of the current vote comes first. Support and oppose: an upsert
# whose update applies only to another value. Written as SQL text because SQLite and PostgreSQL
# share this ON CONFLICT form, and because SQLAlchemy's dialect insert constructs carry no cache
# key: they were compiled again for every vote (the clearing UPDATE is text beside it).
_SET_VOTE = text(
    "INSERT INTO votes (proposal_id, user_id, value, created_at, updated_at)"
    " VALUES (:proposal_id, :user_id, :value, :now, :now)"
    " ON CONFLICT (proposal_id, user_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
    " WHERE votes.value <> excluded.value"
    " RETURNING value"
).bindparams(bindparam("now", type_=UTCDateTime()))
# Clearing: only a vote there is, and not cleared already (no row is written for nothing).
_CLEAR_VOTE = text(
    "UPDATE votes SET value = 0, updated_at = :now"
    " WHERE proposal_id = :proposal_id AND user_id = :user_id AND value <> 0"
    " RETURNING value"
).bindparams(bindparam("now", type_=UTCDateTime()))


def _execute(statement: Any, parameters: dict[str, Any]) -> Any:
    """Run one of the statements above on the session's connection, in its transaction, without
    the ORM: they read and write columns, never objects (through the session, the upsert took the
    ORM's bulk-insert path and was compiled again for every vote)."""
    return db.session.connection().execute(statement, parameters)


def lock_proposal(proposal: Proposal) -> None:
    """Re-read the proposal's state and tallies, locking its row on PostgreSQL until the transaction
    ends, so that changes to its tallies are serialised (SQLite write requests already hold the
    write lock)."""
    row = _execute(_LOCK, {"proposal_id": proposal.id}).one()
    for name in ("status", "hidden_at", "support_count", "oppose_count"):
        set_committed_value(proposal, name, getattr(row, name))


def proposal_for_vote(proposal_id: int) -> VoteTarget | None:
    """The proposal as a vote needs it (None when there is none), in one statement that locks its
    row on PostgreSQL until the transaction ends, so that votes on it are counted one after the
    other (SQLite write requests already hold the write lock)."""
    row = _execute(_VOTE_TARGET, {"proposal_id": proposal_id}).one_or_none()
    if row is None:
        return None
    return VoteTarget(*row[:6], VoteWindow(row.opens_at, row.closes_at), VoteAuthor(row.author_id, bool(row.author_published)))


def recount_votes(proposal_id: int) -> tuple[int, int]:
    """Set the proposal's support and oppose tallies from its votes (one UPDATE); returns them."""
    support, oppose = _execute(_RECOUNT, {"proposal_id": proposal_id}).one()
    return support, oppose


def cast_vote(proposal: Proposal | VoteTarget, user: User, value: str) -> VoteResult:
    """Record `user`'s vote on `proposal`: "support", "oppose" or "clear".

    One row per person and proposal (a unique constraint; written with an upsert), changed in
    place; clearing sets it to 0 and keeps the row. The proposal's tallies are recounted in the
    same transaction. Raises ValidationError for another value, NotAllowed for the author, for a
    proposal that is not open or is hidden, and outside the consultation window.

    `proposal` is a Proposal (read again here, locked) or the VoteTarget that `proposal_for_vote`
    read in this transaction (not read again); either way it ends with the tallies it now has.
    """
    if value not in VOTE_VALUES:
        raise ValidationError({"value": "Choose support, oppose or clear"})
    target = proposal if isinstance(proposal, VoteTarget) else proposal_for_vote(proposal.id)
    if target is None:
        raise NotFound("This proposal does not exist.")
    refusal = vote_refusal(user, target)
    if refusal is not None:
        raise NotAllowed(refusal)
    number = VOTE_VALUES[value]
    key = {"proposal_id": target.id, "user_id": user.id, "now": utcnow()}
    written = _execute(_SET_VOTE, {**key, "value": number}) if number else _execute(_CLEAR_VOTE, key)
    changed = written.first() is not None
    if changed:
        target.support_count, target.oppose_count = recount_votes(target.id)
    if target is not proposal:  # a loaded Proposal: keep it in step without reading it again
        for name in ("status", "hidden_at", "support_count", "oppose_count"):
            set_committed_value(proposal, name, getattr(target, name))
    return VoteResult(number, changed, target.support_count, target.oppose_count)


def vote_of(user: Any, proposal_id: int) -> int | None:
    """The signed-in person's vote on the proposal: +1, -1, 0 (cleared) or None (never voted)."""
    if not permissions.is_member(user):
        return None
    return db.session.scalar(
        select(Vote.value).where(Vote.proposal_id == proposal_id, Vote.user_id == user.id)
    )
