"""The queue's flags: stale (the element's working text moved past the proposal's base, or the
element was removed), conflicted and competing, as SQL conditions for the flag filters and as
answers for the proposals a page shows; and the columns the queue reads for them.

Competing and the strict rebase are kept when they change (`kept_flags.py`): a filter is an indexed
query. A rebase is asked here only when its kept answer is for an earlier working text (the text
moved on without going through the write paths, e.g. data written in bulk), and then for at most
the candidates a page checks (queue.FLAG_CHECK_LIMIT).

The rule, in one place (`is_conflicted`, and `known_conflicted_clause` in SQL): a proposal is
conflicted when its element was removed from the working draft, when the ambition it would go under
was removed (a move, an addition), or when it is stale and its change cannot be carried over
strictly onto the working text (never for TEXTLESS_KINDS). It competes with another open, visible
proposal on the same element, written against the same text, whose changed ranges overlap
(`diffing.fields_compete`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, union
from sqlalchemy.orm import aliased

from ..models import DraftEntry, Element, Proposal, ProposalStatus, db, waiting
from ..proposals.rebase import Texts, rebases_cleanly, texts_by_id
from .models import ProposalRival

# Kinds whose words are not a change of their base text (a removal removes whatever is there; an
# addition's words are a new element's, filed under its ambition): they never conflict with the text.
TEXTLESS_KINDS = ("remove", "add")

# Each shown proposal's element key and working-draft entry, read for the rows a query returns (the
# queue's queries read proposals alone, so that a page walks one index of proposals and stops).
ELEMENT_KEY = select(Element.key).where(Element.id == Proposal.element_id).scalar_subquery().label("key")
_WORKING_TEXT = select(DraftEntry.text_id).where(DraftEntry.element_id == Proposal.element_id).scalar_subquery()
ENTRY_TEXT = _WORKING_TEXT.label("text_id")
ENTRY_REMOVED = (
    select(DraftEntry.is_removed).where(DraftEntry.element_id == Proposal.element_id).scalar_subquery().label("is_removed")
)


# Other proposals, as a query names them beside the one it reads: made once, because SQLAlchemy
# adapts every column of a new alias the first time a condition names it (~5 ms of each queue page).
_OTHER = aliased(Proposal, name="other_proposal")
_RIVAL = aliased(Proposal, name="rival_proposal")


def _removed_elements(vision_id: int) -> Any:
    return select(DraftEntry.element_id).where(DraftEntry.vision_id == vision_id, DraftEntry.is_removed.is_(True))


# Whether the ambition a move would put its element under was removed from the working draft.
TARGET_REMOVED = (
    exists()
    .where(DraftEntry.element_id == Proposal.target_parent_id, DraftEntry.is_removed.is_(True))
    .label("target_removed")
)


def stale_clause(vision_id: int) -> Any:
    """SQL: the proposal's base is not its element's working text (or the element was removed).
    Texts belong to one element, so that is: its base is none of the vision's working texts (a set
    the database reads once, not a join per proposal)."""
    working_texts = select(DraftEntry.text_id).where(DraftEntry.vision_id == vision_id, DraftEntry.is_removed.is_(False))
    return Proposal.base_text_id.not_in(working_texts)


def _removed_or_target_removed(vision_id: int) -> Any:
    removed = _removed_elements(vision_id)
    return or_(Proposal.element_id.in_(removed), Proposal.target_parent_id.in_(removed))


def known_conflicted_clause(vision_id: int) -> Any:
    """SQL: conflicted as far as the kept rebases know (`is_conflicted`); a stale proposal whose
    kept rebase is for an earlier working text is not among them (see `rebase_not_kept`).

    They come from three small indexed sets (rebases kept as failed onto the working text, and
    proposals on or under a removed element), so that the few conflicted ones are found without
    reading every open one."""
    other, removed = _OTHER, _removed_elements(vision_id)
    is_open = other.status == ProposalStatus.OPEN.value
    failed = (
        select(other.id)
        .join(DraftEntry, and_(DraftEntry.element_id == other.element_id, DraftEntry.text_id == other.rebase_tried_on_id))
        .where(other.rebase_clean == False, other.vision_id == vision_id, is_open, other.kind.not_in(TEXTLESS_KINDS))  # noqa: E712 (SQL)
    )
    return Proposal.id.in_(
        union(
            failed,
            select(other.id).where(other.target_parent_id.in_(removed), is_open),
            select(other.id).where(other.element_id.in_(removed), is_open),
        )
    )


def rebase_not_kept(vision_id: int) -> Any:
    """SQL: whether any open proposal of the vision is stale with no rebase kept for its element's
    working text (read element by element from an index of open proposals' kept rebases)."""
    other = _OTHER
    return exists().where(
        DraftEntry.vision_id == vision_id,
        DraftEntry.is_removed.is_(False),
        other.element_id == DraftEntry.element_id,
        other.status == ProposalStatus.OPEN.value,
        other.base_text_id != DraftEntry.text_id,
        or_(other.rebase_tried_on_id.is_(None), other.rebase_tried_on_id != DraftEntry.text_id),
    )


def unknown_clause(vision_id: int) -> Any:
    """SQL: a stale proposal that needs a rebase to tell whether it is conflicted, because none is
    kept for its element's working text."""
    return and_(
        Proposal.kind.not_in(TEXTLESS_KINDS),
        stale_clause(vision_id),
        ~_removed_or_target_removed(vision_id),
        or_(Proposal.rebase_tried_on_id.is_(None), Proposal.rebase_tried_on_id != _WORKING_TEXT),
    )


def competing_clause() -> Any:
    """SQL: the proposal competes with another that waits too (one index range of kept pairs,
    stopping at the first). A scalar subquery, not EXISTS: PostgreSQL would turn EXISTS into a join
    of every kept pair, where a page needs only the first rival of the rows it reads."""
    rival = _RIVAL
    first_rival = (
        select(ProposalRival.rival_id)
        .join(rival, rival.id == ProposalRival.rival_id)
        .where(ProposalRival.proposal_id == Proposal.id, waiting(rival))
        .limit(1)
        .scalar_subquery()
    )
    return first_rival.is_not(None)


@dataclass(frozen=True)
class Candidate:
    id: int
    element_id: int
    base_text_id: int
    current_text_id: int
    removed: bool
    title: str
    body: str
    kind: str = "edit"
    target_removed: bool = False
    # The kept rebase (kept_flags): onto which working text, and whether it was clean.
    rebase_tried_on_id: int | None = None
    rebase_clean: bool | None = None

    @property
    def stale(self) -> bool:
        return self.removed or self.base_text_id != self.current_text_id

    @property
    def rebase_known(self) -> bool:
        return self.rebase_tried_on_id == self.current_text_id and self.rebase_clean is not None


def is_conflicted(candidate: Candidate, rebases: bool) -> bool:
    """Whether the proposal is conflicted (the rule in this module's docstring), given whether its
    change carries over strictly onto the working text (`rebases`; asked only when stale)."""
    if candidate.removed or candidate.target_removed:
        return True
    return candidate.kind not in TEXTLESS_KINDS and candidate.stale and not rebases


NO_TEXTS = Texts("", "")  # for candidates only checked for competition


@dataclass(frozen=True)
class Rivals:
    """The waiting proposals one proposal competes with: how many, and the first SHOWN_RIVALS of
    them by id (a row names a few and links to the rest, rather than dozens of links per row)."""

    count: int = 0
    first: tuple[int, ...] = ()

    @property
    def more(self) -> int:
        return self.count - len(self.first)


# A queue row names this many of a proposal's rivals (at the large scale a proposal has ~16).
SHOWN_RIVALS = 3


def flag_details(
    candidates: Sequence[Candidate], *, conflicts: bool = True, competition: bool = True
) -> tuple[dict[int, bool], dict[int, Rivals]]:
    """Conflicted and competing (its waiting rivals) for the given proposals; at most two queries
    (one for the rivals, one for texts of those whose rebase is not kept for the working text).
    Either half can be skipped (then its dict is empty)."""
    if not candidates:
        return {}, {}
    conflicted: dict[int, bool] = {}
    if conflicts:
        asked = [c for c in candidates if c.stale and not c.removed and not c.target_removed and c.kind not in TEXTLESS_KINDS and not c.rebase_known]
        texts = texts_by_id({c.base_text_id for c in asked} | {c.current_text_id for c in asked})
        fresh = {c.id: rebases_cleanly(texts[c.base_text_id], c, texts[c.current_text_id]) for c in asked}
        for c in candidates:
            rebases = fresh[c.id] if c.id in fresh else bool(c.rebase_clean) or not c.stale
            conflicted[c.id] = is_conflicted(c, rebases)
    competing: dict[int, Rivals] = {}
    if competition:
        competing = {c.id: Rivals() for c in candidates}
        first: dict[int, list[int]] = {c.id: [] for c in candidates}
        for proposal_id, rival_id, count in db.session.execute(_first_rivals([c.id for c in candidates])):
            first[proposal_id].append(rival_id)
            competing[proposal_id] = Rivals(count, tuple(first[proposal_id]))
    return conflicted, competing


def _first_rivals(proposal_ids: list[int]) -> Any:
    """SQL: (proposal id, rival id, how many rivals) for the first SHOWN_RIVALS waiting rivals of each
    proposal, in order. Whether a rival waits is a lookup of its row by id, per kept pair (a scalar
    subquery: PostgreSQL would hash-join every open proposal to test a page's few hundred pairs)."""
    rival = _RIVAL
    rival_waits = select(waiting(rival)).where(rival.id == ProposalRival.rival_id).scalar_subquery()
    each = (ProposalRival.proposal_id,)
    ranked = (
        select(
            ProposalRival.proposal_id,
            ProposalRival.rival_id,
            func.row_number().over(partition_by=each, order_by=ProposalRival.rival_id).label("place"),
            func.count().over(partition_by=each).label("rivals"),
        )
        .where(ProposalRival.proposal_id.in_(proposal_ids), rival_waits)
        .subquery()
    )
    return (
        select(ranked.c.proposal_id, ranked.c.rival_id, ranked.c.rivals)
        .where(ranked.c.place <= SHOWN_RIVALS)
        .order_by(ranked.c.proposal_id, ranked.c.rival_id)
    )


def candidate(row: Any, texts: Any = None) -> Candidate:
    """A candidate from a row of CANDIDATE_COLUMNS, with its title and body from the row (with
    TEXT_COLUMNS) or from `texts` (the loaded Proposal, or NO_TEXTS)."""
    texts = row if texts is None else texts
    return Candidate(
        id=row.id,
        element_id=row.element_id,
        base_text_id=row.base_text_id,
        current_text_id=row.text_id,
        removed=bool(row.is_removed),
        title=texts.title,
        body=texts.body,
        kind=row.kind,
        target_removed=bool(row.target_removed),
        rebase_tried_on_id=row.rebase_tried_on_id,
        rebase_clean=row.rebase_clean,
    )


def shown_candidate(proposal: Proposal, text_id: int, removed: Any, target_removed: Any) -> Candidate:
    """A candidate for a loaded proposal, with its row's working text, removal and target's removal."""
    return Candidate(
        proposal.id, proposal.element_id, proposal.base_text_id, text_id, bool(removed), proposal.title, proposal.body,
        kind=proposal.kind, target_removed=bool(target_removed),
        rebase_tried_on_id=proposal.rebase_tried_on_id, rebase_clean=proposal.rebase_clean,
    )


CANDIDATE_COLUMNS = (
    Proposal.id, Proposal.element_id, Proposal.base_text_id, Proposal.kind, Proposal.rebase_tried_on_id, Proposal.rebase_clean,
    ENTRY_TEXT, ENTRY_REMOVED, TARGET_REMOVED,
)
TEXT_COLUMNS = (Proposal.title, Proposal.body)
