"""Facilitation: the queue of open proposals, accepting, rejecting, reopening, and bringing a stale
proposal up to date with the working text (issue 6, the decision half).

State changes take plain values and the acting user, check the permission again, flush and never
commit (the view commits). They raise:

- `NotAllowed` (from the proposals feature) when the person may not act at all;
- `AlreadyDecided` when the proposal is no longer open (a double-clicked accept lands here);
- `WrongState` when the action does not fit the proposal's state (reopening an open proposal,
  reopening outside the consultation window, rebasing a removed element...), with a message in words;
- `DraftMoved` when an accept was prepared against a working text that is no longer current (or
  against an earlier revision of the proposal): nothing is written, and the view shows the strict
  rebase to confirm or the conflict to resolve (`plan_accept`);
- `RebaseConflict` when a stale proposal cannot be carried over to the current text;
- `ValidationError` with messages per field (`title`, `body`, `note`, `reason`);
- SQLAlchemy's `StaleDataError` when the draft entry's lock version moved under an accept (the view
  treats it exactly like `DraftMoved`).

Who an accepted text is credited to (ElementText.created_by): the proposal's author when the
facilitator accepted the proposal as it was written, or its strict rebase onto the current text
unchanged; the facilitator when they changed the text (then the proposal is "accepted with
changes" and both differences are shown: base -> proposal and proposal -> accepted). The DraftChange
always names the facilitator as the actor and the proposal it came from, so the changelog credits
both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from .. import diffcache, diffing, permissions
from ..caching import app_cache
from ..models import (
    DraftChange,
    DraftEntry,
    Element,
    ElementText,
    Proposal,
    ProposalRevision,
    ProposalStatus,
    User,
    Vision,
    db,
    record_event,
    utcnow,
)
from ..pagination import PageNumbers
from ..proposals.services import NotAllowed, revise_proposal, status_label
from ..text_diff import TextDiff
from ..exceptions import ValidationError
from ..validation import clean_text, has_disguising_characters

__all__ = [
    "NotAllowed",
    "AlreadyDecided",
    "WrongState",
    "DraftMoved",
    "RebaseConflict",
    "AcceptPlan",
    "plan_accept",
    "accept_proposal",
    "reject_proposal",
    "reopen_proposal",
    "rebase_proposal",
    "queue",
]

PER_PAGE = 20
TITLE_MAX = 200
BODY_MAX = 20_000
NOTE_MAX = 5_000
REASON_MAX = 5_000
# A flag filter that needs word diffs (conflicted, competing) checks at most this many candidates.
FLAG_CHECK_LIMIT = 500


class AlreadyDecided(Exception):
    """The proposal is no longer open (accepted, rejected or withdrawn)."""

    def __init__(self, proposal: Proposal):
        self.status = proposal.status
        super().__init__(f"proposal {proposal.id} is {proposal.status}")


class WrongState(Exception):
    """The action does not fit the proposal's state now; `str(error)` says why, in words."""


class DraftMoved(Exception):
    """The accept was prepared against a working text (or proposal revision) that is not current."""

    def __init__(self, reason: str):
        self.reason = reason  # "moved" (the working text) or "revised" (the proposal)
        super().__init__(reason)


class RebaseConflict(Exception):
    """The proposal's changes cannot be carried over to the current text without a person."""

    def __init__(self, conflicts: Sequence[diffing.Conflict], message: str = ""):
        self.conflicts = list(conflicts)
        self.message = message
        super().__init__(message or "; ".join(c.description for c in self.conflicts))


# --- small helpers --------------------------------------------------------------------------------


def _entry_for(element_id: int, *, lock: bool = False) -> DraftEntry | None:
    """The element's draft entry; `lock` takes a row lock on PostgreSQL and reloads the row.

    (On SQLite a write request already holds the database's write lock: `BEGIN IMMEDIATE`.)
    """
    query = select(DraftEntry).where(DraftEntry.element_id == element_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def _texts(ids: set[int]) -> dict[int, ElementText]:
    if not ids:
        return {}
    return {t.id: t for t in db.session.scalars(select(ElementText).where(ElementText.id.in_(ids)))}


def _clean_field(
    errors: dict[str, str], name: str, value: str | None, *, multiline: bool, limit: int, what: str
) -> str:
    raw = value or ""
    if has_disguising_characters(raw):
        errors[name] = (
            f"Remove the hidden formatting characters (such as right-to-left overrides or "
            f"zero-width spaces) from the {what}"
        )
        return ""
    cleaned = clean_text(raw, multiline=multiline)
    if len(cleaned) > limit:
        errors[name] = f"The {what} must be {limit:,} characters or fewer (it has {len(cleaned):,})"
    return cleaned


def clean_accepted_text(title: str | None, body: str | None, note: str | None) -> tuple[str, str, str]:
    """Normalise the text a facilitator accepts and their note, or raise ValidationError per field."""
    errors: dict[str, str] = {}
    title = _clean_field(errors, "title", title, multiline=False, limit=TITLE_MAX, what="title")
    body = _clean_field(errors, "body", body, multiline=True, limit=BODY_MAX, what="text")
    note = _clean_field(errors, "note", note, multiline=True, limit=NOTE_MAX, what="note")
    if "body" not in errors and not body:
        errors["body"] = "Enter the text to accept into the working draft"
    if errors:
        raise ValidationError(errors)
    return title, body, note


def parse_id(raw: str | None) -> int | None:
    """A positive id from a form field (1..999,999,999), else None."""
    raw = (raw or "").strip()
    if raw.isdigit() and len(raw) <= 9 and int(raw) >= 1:
        return int(raw)
    return None


def _conflicted(base: ElementText, proposed: tuple[str, str], current: ElementText) -> bool:
    return not (
        diffcache.rebases_cleanly(base.title, proposed[0], current.title)
        and diffcache.rebases_cleanly(base.body, proposed[1], current.body)
    )


# --- accepting ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Texts:
    """A title and a body (an element's text, or a proposal's)."""

    title: str
    body: str


@dataclass
class AcceptPlan:
    """What the accept page shows and which text its form starts from.

    `mode`:
    - "as_proposed": the working text is still the proposal's base: accept it, or edit it first.
    - "rebased": the working text moved on; the change rebased strictly onto it applies cleanly and
      is shown to confirm (nothing merges without a person seeing it).
    - "conflict": the change cannot be carried over: the change and what changed meanwhile are
      shown side by side, and the result starts as the current text, for the facilitator to edit.
    - "removed": the element is no longer in the working draft: nothing can be accepted.

    `reason` says why the page is shown again after a POST: "moved" (the working text changed while
    the page was open), "revised" (the author revised the proposal meanwhile), or None.
    """

    mode: str
    reason: str | None
    base: ElementText
    current: ElementText | None
    # The change being accepted: from `change_from` (the text it was prepared against) to `change_to`.
    change_from: Texts
    change_to: Texts
    result: Texts | None
    expected_text_id: int | None
    revision: int
    conflicts: list[diffing.Conflict] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return self.current is None or self.current.id != self.base.id

    @property
    def already_in_text(self) -> bool:
        """The change carried over is already the current text: accepting would change nothing."""
        return (
            self.mode == "rebased"
            and self.current is not None
            and self.result == Texts(self.current.title, self.current.body)
        )

    @property
    def change_diff(self) -> TextDiff:
        """The change being accepted (base -> proposal, or the facilitator's prepared text)."""
        return TextDiff.between(self.change_from.title, self.change_from.body, self.change_to.title, self.change_to.body)

    @property
    def meanwhile_diff(self) -> TextDiff | None:
        """What changed in the working text since the change was prepared."""
        if self.current is None:
            return None
        return TextDiff.between(self.change_from.title, self.change_from.body, self.current.title, self.current.body)

    @property
    def result_diff(self) -> TextDiff | None:
        """The rebased result against the current text (what accepting would change now)."""
        if self.current is None or self.result is None:
            return None
        return TextDiff.between(self.current.title, self.current.body, self.result.title, self.result.body)


def plan_accept(
    proposal: Proposal,
    *,
    prepared_from_id: int | None = None,
    submitted: tuple[str, str] | None = None,
    reason: str | None = None,
) -> AcceptPlan:
    """Work out what the accept page shows for the proposal against the current working text.

    By default the change is the proposal's (its base -> its text). After a POST that found the
    draft moved, `prepared_from_id` (the working text the form was prepared against) and
    `submitted` (the title and body the facilitator sent) make the change the facilitator's own,
    so their edits are carried over too; an id that is not a text of this element is ignored.
    Reads only (two queries); never writes.
    """
    entry = _entry_for(proposal.element_id)
    wanted = {proposal.base_text_id}
    if entry is not None:
        wanted.add(entry.text_id)
    if prepared_from_id is not None:
        wanted.add(prepared_from_id)
    texts = _texts(wanted)
    base = texts[proposal.base_text_id]
    current = texts.get(entry.text_id) if entry is not None and not entry.is_removed else None
    prepared = texts.get(prepared_from_id) if prepared_from_id is not None else None
    if prepared is not None and prepared.element_id == proposal.element_id and submitted is not None:
        change_from, change_to = Texts(prepared.title, prepared.body), Texts(*submitted)
        from_id = prepared.id
    else:
        change_from, change_to = Texts(base.title, base.body), Texts(proposal.title, proposal.body)
        from_id = base.id

    plan = AcceptPlan(
        mode="as_proposed",
        reason=reason,
        base=base,
        current=current,
        change_from=change_from,
        change_to=change_to,
        result=None,
        expected_text_id=current.id if current is not None else None,
        revision=proposal.revision_count,
    )
    if current is None:
        plan.mode = "removed"
        return plan
    if current.id == from_id:
        plan.result = change_to
        plan.mode = "as_proposed" if from_id == base.id else "rebased"
        return plan
    title = diffing.rebase(change_from.title, change_to.title, current.title)
    body = diffing.rebase(change_from.body, change_to.body, current.body)
    if title.ok and body.ok:
        plan.mode = "rebased"
        plan.result = Texts(title.text or "", body.text or "")
    else:
        plan.mode = "conflict"
        plan.result = Texts(current.title, current.body)
        plan.conflicts = [*title.conflicts, *body.conflicts]
    return plan


@dataclass(frozen=True)
class Accepted:
    proposal: Proposal
    text: ElementText
    with_changes: bool


def _check_decider(proposal: Proposal, facilitator: Any) -> None:
    if not permissions.is_facilitator(facilitator):
        raise NotAllowed("only facilitators decide on proposals")
    if proposal.author_id == facilitator.id:
        raise NotAllowed("facilitators do not decide on their own proposals")
    if proposal.status != ProposalStatus.OPEN.value:
        raise AlreadyDecided(proposal)
    if not permissions.can_decide_proposal(facilitator, proposal):
        raise NotAllowed("this proposal cannot be decided")


def accept_proposal(
    proposal: Proposal,
    facilitator: User,
    *,
    title: str | None,
    body: str | None,
    note: str | None,
    expected_text_id: int | None,
    revision: int | None,
) -> Accepted:
    """Accept the proposal into the working draft as a new element text.

    `expected_text_id` is the working text the facilitator's page was prepared against and
    `revision` the proposal revision it showed; `title`/`body` are the text to accept (the
    proposal's, its strict rebase, or the facilitator's edit). Writes only when the element's
    working text is still `expected_text_id` (checked under a row lock on PostgreSQL, and by the
    draft entry's lock version everywhere): then a new ElementText, the draft entry moved to it, a
    DraftChange "accept", the proposal marked accepted (with changes when the text differs from the
    proposal, or from its clean rebase onto the current text) and an audit event.

    Raises NotAllowed (not a facilitator, or their own proposal), AlreadyDecided (not open any
    more: a second click), ValidationError (bad text or note, or text that would change nothing),
    DraftMoved (the working text or the proposal changed since the page was prepared), WrongState
    (the element was removed from the draft), StaleDataError (the entry changed under the write).
    """
    _check_decider(proposal, facilitator)
    title, body, note = clean_accepted_text(title, body, note)
    if revision != proposal.revision_count:
        raise DraftMoved("revised")
    entry = _entry_for(proposal.element_id, lock=True)
    if entry is None or entry.is_removed:
        raise WrongState("This element has been removed from the working draft, so the proposal cannot be accepted. Reject it with a reason instead.")
    if expected_text_id != entry.text_id:
        raise DraftMoved("moved")
    texts = _texts({entry.text_id, proposal.base_text_id})
    current, base = texts[entry.text_id], texts[proposal.base_text_id]
    if (title, body) == (current.title, current.body):
        raise ValidationError(
            {"body": "This text is the same as the current working text, so accepting it would change nothing. Change the text, or reject the proposal with a reason"}
        )
    if current.id == base.id:
        as_written = (proposal.title, proposal.body)
    else:
        rebased_title = diffing.rebase(base.title, proposal.title, current.title)
        rebased_body = diffing.rebase(base.body, proposal.body, current.body)
        as_written = (
            (rebased_title.text, rebased_body.text) if rebased_title.ok and rebased_body.ok else None
        )
    with_changes = (title, body) != as_written
    now = utcnow()
    text = ElementText(
        element_id=proposal.element_id,
        title=title,
        body=body,
        created_at=now,
        created_by_id=facilitator.id if with_changes else proposal.author_id,
    )
    db.session.add(text)
    db.session.flush()
    previous_text_id = entry.text_id
    entry.text_id = text.id
    db.session.flush()  # UPDATE ... WHERE lock_version = n: StaleDataError if it moved
    db.session.add(
        DraftChange(
            vision_id=proposal.vision_id,
            element_id=proposal.element_id,
            kind="accept",
            actor_id=facilitator.id,
            reason=note,
            text_id=text.id,
            proposal_id=proposal.id,
            created_at=now,
        )
    )
    proposal.status = ProposalStatus.ACCEPTED.value
    proposal.accepted_with_changes = with_changes
    proposal.result_text_id = text.id
    proposal.decided_by_id = facilitator.id
    proposal.decided_at = now
    proposal.decision_reason = note
    record_event(
        "proposal.accepted",
        "proposal",
        proposal.id,
        actor=facilitator,
        vision_id=proposal.vision_id,
        element_id=proposal.element_id,
        text_id=text.id,
        previous_text_id=previous_text_id,
        base_text_id=base.id,
        revision=proposal.revision_count,
        with_changes=with_changes,
        note=note,
    )
    db.session.flush()
    return Accepted(proposal, text, with_changes)


# --- rejecting and reopening ---------------------------------------------------------------------------


def reject_proposal(proposal: Proposal, facilitator: User, reason: str | None) -> Proposal:
    """Reject an open proposal with a public reason (required). Nothing is deleted.

    Raises NotAllowed (not a facilitator, or their own proposal), AlreadyDecided (not open) and
    ValidationError (`reason` missing, too long or disguised).
    """
    _check_decider(proposal, facilitator)
    errors: dict[str, str] = {}
    cleaned = _clean_field(errors, "reason", reason, multiline=True, limit=REASON_MAX, what="reason")
    if "reason" not in errors and not cleaned:
        errors["reason"] = "Enter the reason for rejecting this proposal. It is shown publicly on the proposal"
    if errors:
        raise ValidationError(errors)
    now = utcnow()
    proposal.status = ProposalStatus.REJECTED.value
    proposal.accepted_with_changes = False
    proposal.decided_by_id = facilitator.id
    proposal.decided_at = now
    proposal.decision_reason = cleaned
    record_event(
        "proposal.rejected",
        "proposal",
        proposal.id,
        actor=facilitator,
        vision_id=proposal.vision_id,
        element_id=proposal.element_id,
        reason=cleaned,
        revision=proposal.revision_count,
    )
    db.session.flush()
    return proposal


def reopen_proposal(proposal: Proposal, facilitator: User) -> Proposal:
    """Reopen a rejected proposal while the consultation window is open.

    The proposal becomes open and its decision fields are cleared; the audit event keeps the
    earlier decision (who, when, why). Raises NotAllowed for anyone but a facilitator and
    WrongState when the proposal is not rejected or the window is not open.
    """
    if not permissions.is_facilitator(facilitator):
        raise NotAllowed("only facilitators reopen proposals")
    if proposal.status != ProposalStatus.REJECTED.value:
        raise WrongState(
            f"Only a rejected proposal can be reopened. This one is {status_label(proposal).lower()}."
        )
    if not proposal.vision.is_open():
        raise WrongState(
            "The consultation window is not open, so a rejected proposal cannot be reopened now: "
            "nobody could vote on it or discuss it. Reopen it once the window is open again."
        )
    if not permissions.can_reopen_proposal(facilitator, proposal):
        raise NotAllowed("this proposal cannot be reopened")
    record_event(
        "proposal.reopened",
        "proposal",
        proposal.id,
        actor=facilitator,
        vision_id=proposal.vision_id,
        previous_decision={
            "status": proposal.status,
            "decided_by_id": proposal.decided_by_id,
            "decided_at": proposal.decided_at.isoformat() if proposal.decided_at else None,
            "reason": proposal.decision_reason,
        },
    )
    proposal.status = ProposalStatus.OPEN.value
    proposal.decided_by_id = None
    proposal.decided_at = None
    proposal.decision_reason = ""
    proposal.accepted_with_changes = False
    proposal.result_text_id = None
    db.session.flush()
    return proposal


# --- bringing a stale proposal up to date -----------------------------------------------------------------


def rebase_proposal(proposal: Proposal, author: User) -> ProposalRevision:
    """The author's one click: carry the proposal's change over to the element's current text.

    Recomputes the strict rebase (base -> proposal, applied to the current text). When clean, adds
    a revision through `proposals.services.revise_proposal` (an immutable ProposalRevision based on
    the current text, mirrored onto the proposal) and an audit event "proposal.rebased". Raises
    NotAllowed for anyone but the author, WrongState when the proposal is not open, already applies
    to the current text, or its element was removed, and RebaseConflict when a hunk cannot apply
    exactly (nothing is written then).
    """
    if not permissions.is_member(author) or proposal.author_id != author.id:
        raise NotAllowed("only the author can update a proposal")
    if proposal.status != ProposalStatus.OPEN.value:
        raise WrongState(
            f"This proposal is {status_label(proposal).lower()}, so it can no longer be changed."
        )
    if not permissions.can_rebase_proposal(author, proposal):
        raise NotAllowed("this proposal cannot be changed")
    entry = _entry_for(proposal.element_id, lock=True)
    if entry is None or entry.is_removed:
        raise WrongState("This element has been removed from the working draft, so the proposal cannot be updated.")
    if entry.text_id == proposal.base_text_id:
        raise WrongState("Your proposal already applies to the current text: there is nothing to update.")
    texts = _texts({entry.text_id, proposal.base_text_id})
    current, base = texts[entry.text_id], texts[proposal.base_text_id]
    title = diffing.rebase(base.title, proposal.title, current.title)
    body = diffing.rebase(base.body, proposal.body, current.body)
    if not (title.ok and body.ok):
        raise RebaseConflict([*title.conflicts, *body.conflicts])
    if (title.text, body.text) == (current.title, current.body):
        raise RebaseConflict(
            [],
            "The current text already contains your change, so there is nothing left to propose. "
            "You could withdraw your proposal.",
        )
    previous_base = proposal.base_text_id
    try:
        revision = revise_proposal(
            proposal, author, title.text or "", body.text or "", proposal.rationale, base_text_id=current.id
        )
    except ValidationError as error:
        messages = [m for ms in error.errors.values() for m in ms]
        raise RebaseConflict([], " ".join(f"{m.rstrip('.')}." for m in messages)) from error
    record_event(
        "proposal.rebased",
        "proposal",
        proposal.id,
        actor=author,
        vision_id=proposal.vision_id,
        revision=revision.number,
        from_base_text_id=previous_base,
        to_base_text_id=current.id,
    )
    db.session.flush()
    return revision


# --- the queue ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueSort:
    label: str
    order_by: tuple[Any, ...]


# The only sorts a request may name (`sort=`); anything else is the default.
QUEUE_SORTS: dict[str, QueueSort] = {
    "oldest": QueueSort("Waiting longest first", (Proposal.created_at.asc(), Proposal.id.asc())),
    "newest": QueueSort("Newest first", (Proposal.created_at.desc(), Proposal.id.desc())),
    "support": QueueSort(
        "Most support first", (Proposal.support_count.desc(), Proposal.created_at.asc(), Proposal.id.asc())
    ),
}
DEFAULT_QUEUE_SORT = "oldest"

# The flags a request may filter on (`flag=`).
QUEUE_FLAGS: dict[str, str] = {
    "": "Any",
    "stale": "Stale",
    "conflicted": "Conflicted",
    "competing": "Competing",
    "current": "Up to date",
}


@dataclass(frozen=True)
class QueueFilters:
    element_key: str = ""
    flag: str = ""
    sort: str = DEFAULT_QUEUE_SORT


@dataclass
class QueueRow:
    proposal: Proposal
    element_key: str
    stale: bool
    removed: bool
    conflicted: bool
    competing_with: list[int]

    @property
    def competing(self) -> bool:
        return bool(self.competing_with)


@dataclass
class QueuePage(PageNumbers):
    rows: list[QueueRow]
    total: int
    page: int
    per_page: int
    # For the flags that need word diffs: whether every candidate was checked (see FLAG_CHECK_LIMIT).
    checked_all: bool = True


def _stale_clause() -> Any:
    return or_(Proposal.base_text_id != DraftEntry.text_id, DraftEntry.is_removed.is_(True))


def _open_where(vision: Vision, filters: QueueFilters) -> list[Any]:
    where = [
        Proposal.vision_id == vision.id,
        Proposal.status == ProposalStatus.OPEN.value,
        Proposal.hidden_at.is_(None),
    ]
    if filters.element_key:
        where.append(Element.key == filters.element_key)
    return where


def _peer_exists() -> Any:
    other = aliased(Proposal)
    return exists().where(
        other.element_id == Proposal.element_id,
        other.base_text_id == Proposal.base_text_id,
        other.id != Proposal.id,
        other.status == ProposalStatus.OPEN.value,
        other.hidden_at.is_(None),
    )


def _joined(query: Any) -> Any:
    return query.join(Element, Element.id == Proposal.element_id).join(
        DraftEntry, DraftEntry.element_id == Proposal.element_id
    )


@dataclass(frozen=True)
class _Texts:
    title: str
    body: str


_NO_TEXTS = _Texts("", "")  # for candidates only checked for competition (which reads stored ranges)


@dataclass(frozen=True)
class _Candidate:
    id: int
    element_id: int
    base_text_id: int
    current_text_id: int
    removed: bool
    title: str
    body: str


def _flag_details(
    candidates: Sequence[_Candidate], *, conflicts: bool = True, competition: bool = True
) -> tuple[dict[int, bool], dict[int, list[int]]]:
    """Conflicted (stale ones only) and competing ids for the given proposals; at most three queries.

    Competing: another open, visible proposal on the same element and the same base whose changed
    ranges overlap (`diffing.fields_compete`; see `_competition`). Either half can be skipped (then its
    dict is empty).
    """
    if not candidates:
        return {}, {}
    base_ids = {c.base_text_id for c in candidates}
    groups: dict[tuple[int, int], frozenset[str]] = {}
    if competition:
        # Each group's members as "id.revision" strings, aggregated by the database: one row per
        # group instead of one per open proposal (7,000 in the benchmark).
        member = cast(Proposal.id, String) + "." + cast(Proposal.revision_count, String)
        groups = {
            (element_id, base_text_id): frozenset(members.split(","))
            for element_id, base_text_id, members in db.session.execute(
                select(Proposal.element_id, Proposal.base_text_id, func.aggregate_strings(member, ","))
                .where(
                    Proposal.element_id.in_({c.element_id for c in candidates}),
                    Proposal.base_text_id.in_(base_ids),
                    Proposal.status == ProposalStatus.OPEN.value,
                    Proposal.hidden_at.is_(None),
                )
                .group_by(Proposal.element_id, Proposal.base_text_id)
            )
        }
    stale_current = {c.current_text_id for c in candidates if c.base_text_id != c.current_text_id} if conflicts else set()
    texts = _texts({c.base_text_id for c in candidates if c.current_text_id in stale_current} | stale_current)

    conflicted: dict[int, bool] = {}
    if conflicts:
        for c in candidates:
            if c.removed:
                conflicted[c.id] = True
            elif c.base_text_id != c.current_text_id:
                conflicted[c.id] = _conflicted(texts[c.base_text_id], (c.title, c.body), texts[c.current_text_id])
            else:
                conflicted[c.id] = False

    competing: dict[int, list[int]] = {}
    if competition:
        rivals = _competition(groups)
        for c in candidates:
            competing[c.id] = list(rivals.get((c.element_id, c.base_text_id), {}).get(c.id, ()))
    return conflicted, competing


def _competition(groups: dict[tuple[int, int], frozenset[str]]) -> dict[tuple[int, int], dict[int, tuple[int, ...]]]:
    """For every group (the open proposals on one element written against one text, as a set of
    "id.revision" strings), each member's id with the ids of those in its group it competes with.

    A group's answer depends only on its members' revisions, so it is kept per process, keyed by
    (element, base text, members and their revision numbers): a new, revised, withdrawn or decided
    proposal makes a new key. For groups not yet known, the members' stored changed ranges are
    read in one query (no word diff: they were computed when each revision was written).
    """
    cache = app_cache("competition", 1024)
    found: dict[tuple[int, int], dict[int, tuple[int, ...]]] = {}
    missing = []
    for group, members in groups.items():
        answer = cache.get((group, members))
        if answer is None:
            missing.append(group)
        else:
            found[group] = answer
    if missing:
        wanted = {group: dict(_id_and_revision(m) for m in groups[group]) for group in missing}
        ids = [proposal_id for members in wanted.values() for proposal_id in members]
        proposed = {
            row.id: row
            for row in db.session.execute(
                select(Proposal.id, Proposal.revision_count, Proposal.changed_ranges).where(Proposal.id.in_(ids))
            )
        }
        for group in missing:
            members = [proposed[i] for i, revision in wanted[group].items() if i in proposed and proposed[i].revision_count == revision]
            rivals: dict[int, list[int]] = {m.id: [] for m in members}
            for a, b in sorted(diffing.competing_pairs({m.id: m.changed_ranges for m in members})):
                rivals[a].append(b)
                rivals[b].append(a)
            answer = {i: tuple(r) for i, r in rivals.items()}
            found[group] = answer
            if len(members) == len(wanted[group]):  # nobody revised meanwhile: safe to keep
                cache.put((group, groups[group]), answer)
    return found


def _id_and_revision(member: str) -> tuple[int, int]:
    proposal_id, revision = member.split(".")
    return int(proposal_id), int(revision)


def _candidate(row: Any, texts: Any = None) -> _Candidate:
    """A candidate from a row of _CANDIDATE_COLUMNS, with its title and body from the row (with
    _TEXT_COLUMNS) or from `texts` (the loaded Proposal, or _NO_TEXTS)."""
    texts = row if texts is None else texts
    return _Candidate(
        id=row.id,
        element_id=row.element_id,
        base_text_id=row.base_text_id,
        current_text_id=row.text_id,
        removed=bool(row.is_removed),
        title=texts.title,
        body=texts.body,
    )


_CANDIDATE_COLUMNS = (Proposal.id, Proposal.element_id, Proposal.base_text_id, DraftEntry.text_id, DraftEntry.is_removed)
_TEXT_COLUMNS = (Proposal.title, Proposal.body)


def queue(vision: Vision, filters: QueueFilters, page: int, per_page: int = PER_PAGE) -> QueuePage:
    """One page of the facilitators' queue: open, visible proposals with their flags.

    A bounded number of queries whatever the data (at most five). "Stale" is computed in SQL (the
    proposal's base is not the element's working text). "Conflicted" (stale, and the strict rebase
    fails) and "Competing" need word diffs: without a flag filter they are computed for the shown
    page only; filtering on them checks at most FLAG_CHECK_LIMIT candidates in the chosen order
    (`checked_all` says whether that covered them all).
    """
    sort = QUEUE_SORTS.get(filters.sort, QUEUE_SORTS[DEFAULT_QUEUE_SORT])
    where = _open_where(vision, filters)
    if filters.flag in ("stale", "conflicted"):
        where.append(_stale_clause())
    elif filters.flag == "current":
        where.append(~_stale_clause())
    elif filters.flag == "competing":
        where.append(_peer_exists())

    checked_all = True
    if filters.flag in ("conflicted", "competing"):
        # Checking conflicts needs every candidate's texts; checking competition needs none (see
        # _competition), so those are read for the shown page only.
        columns = (*_CANDIDATE_COLUMNS, *_TEXT_COLUMNS) if filters.flag == "conflicted" else _CANDIDATE_COLUMNS
        rows = db.session.execute(
            _joined(select(*columns)).where(*where).order_by(*sort.order_by).limit(FLAG_CHECK_LIMIT + 1)
        ).all()
        checked_all = len(rows) <= FLAG_CHECK_LIMIT
        rows = rows[:FLAG_CHECK_LIMIT]
        if filters.flag == "conflicted":
            candidates = [_candidate(r) for r in rows]
            conflicted, _ = _flag_details(candidates, competition=False)
            matching = [(r, c) for r, c in zip(rows, candidates) if conflicted[c.id]]
        else:
            _, competing = _flag_details([_candidate(r, _NO_TEXTS) for r in rows], conflicts=False)
            matching = [(r, None) for r in rows if competing[r.id]]
        total = len(matching)
        page_rows = matching[(page - 1) * per_page : page * per_page]
        ids = [r.id for r, _ in page_rows]
        loaded = {
            p.id: p
            for p in db.session.scalars(
                select(Proposal).options(joinedload(Proposal.author)).where(Proposal.id.in_(ids))
            )
        } if ids else {}
        shown = [c if c is not None else _candidate(r, loaded[r.id]) for r, c in page_rows]
        # The other flag, for the shown page only (competitors are already known for every candidate).
        if filters.flag == "conflicted":
            _, competing = _flag_details(shown, conflicts=False)
        else:
            conflicted, _ = _flag_details(shown, competition=False)
        keys = dict(
            db.session.execute(
                select(Element.id, Element.key).where(Element.id.in_({c.element_id for c in shown}))
            ).all()
        ) if shown else {}
        result = [
            QueueRow(
                proposal=loaded[c.id],
                element_key=keys[c.element_id],
                stale=c.removed or c.base_text_id != c.current_text_id,
                removed=c.removed,
                conflicted=conflicted[c.id],
                competing_with=competing[c.id],
            )
            for c in shown
        ]
        return QueuePage(result, total, page, per_page, checked_all)

    total = db.session.scalar(_joined(select(func.count(Proposal.id))).where(*where)) or 0
    rows = db.session.execute(
        _joined(select(Proposal, Element.key, DraftEntry.text_id, DraftEntry.is_removed))
        .options(joinedload(Proposal.author))
        .where(*where)
        .order_by(*sort.order_by)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    candidates = [
        _Candidate(p.id, p.element_id, p.base_text_id, text_id, bool(removed), p.title, p.body)
        for p, _, text_id, removed in rows
    ]
    conflicted, competing = _flag_details(candidates)
    result = [
        QueueRow(
            proposal=p,
            element_key=key,
            stale=bool(removed) or p.base_text_id != text_id,
            removed=bool(removed),
            conflicted=conflicted[p.id],
            competing_with=competing[p.id],
        )
        for p, key, text_id, removed in rows
    ]
    return QueuePage(result, total, page, per_page, checked_all)


def age_in_words(then: datetime, now: datetime | None = None) -> str:
    """How long ago, in words: "less than a minute", "5 minutes", "3 hours", "2 days", "6 weeks"."""
    seconds = max(0, int(((now or utcnow()) - then).total_seconds()))

    def plural(n: int, word: str) -> str:
        return f"{n} {word}" if n == 1 else f"{n} {word}s"

    if seconds < 60:
        return "less than a minute"
    if seconds < 3600:
        return plural(seconds // 60, "minute")
    if seconds < 86400:
        return plural(seconds // 3600, "hour")
    days = seconds // 86400
    if days < 14:
        return plural(days, "day")
    if days < 70:
        return plural(days // 7, "week")
    return plural(days // 30, "month")


# --- what the proposal page shows ------------------------------------------------------------------


@dataclass
class Decision:
    """The decision on a proposal, in words, and what the signed-in person may do about it."""

    status: str
    label: str  # "Open", "Accepted", "Accepted with changes", "Rejected", "Withdrawn"
    decided_by: str = ""
    decided_at: datetime | None = None
    note: str = ""
    # Accepted with changes: base -> proposal and proposal -> accepted.
    proposed_diff: TextDiff | None = None
    changes_diff: TextDiff | None = None
    can_accept: bool = False
    can_reject: bool = False
    can_reopen: bool = False
    reopen_blocked: str = ""  # why a facilitator cannot reopen it now, in words
    own_proposal: bool = False  # a facilitator looking at their own proposal


def decision_for(proposal: Proposal, user: Any) -> Decision:
    """The decision panel's content for `proposal` as seen by `user`; at most two queries."""
    decision = Decision(status=proposal.status, label=status_label(proposal), note=proposal.decision_reason)
    if proposal.decided_by_id is not None:
        person = db.session.get(User, proposal.decided_by_id)
        decision.decided_by = person.public_name if person is not None else ""
        decision.decided_at = proposal.decided_at
    if (
        proposal.status == ProposalStatus.ACCEPTED.value
        and proposal.accepted_with_changes
        and proposal.result_text_id is not None
    ):
        texts = _texts({proposal.base_text_id, proposal.result_text_id})
        base, result = texts[proposal.base_text_id], texts[proposal.result_text_id]
        decision.proposed_diff = TextDiff.between(base.title, base.body, proposal.title, proposal.body)
        decision.changes_diff = TextDiff.between(proposal.title, proposal.body, result.title, result.body)
    decision.can_accept = decision.can_reject = permissions.can_decide_proposal(user, proposal)
    decision.own_proposal = permissions.is_facilitator(user) and user.id == proposal.author_id
    if permissions.is_facilitator(user) and proposal.status == ProposalStatus.REJECTED.value:
        decision.can_reopen = permissions.can_reopen_proposal(user, proposal)
        if not decision.can_reopen:
            decision.reopen_blocked = "It can be reopened while the consultation window is open."
    return decision


@dataclass
class RebaseOffer:
    """How an open proposal stands against the current working text, for its author and facilitators."""

    stale: bool
    removed: bool = False
    clean: bool = True
    diff: TextDiff | None = None  # current -> rebased, when clean
    conflicts: list[diffing.Conflict] = field(default_factory=list)
    current_title: str = ""  # the element's working text now, shown beside a conflict
    current_body: str = ""
    can_rebase: bool = False  # the author may update it with one click
    is_facilitator: bool = False
    is_author: bool = False

    @property
    def shown(self) -> bool:
        """Shown to everyone while the proposal is open and stale: the flags are public."""
        return self.stale


def rebase_offer(proposal: Proposal, user: Any, stale: Any = None) -> RebaseOffer:
    """The rebase offer for the proposal page. `stale` may be the proposals feature's `Staleness`
    (already computed for the page); otherwise it is computed here (two queries and a rebase)."""
    is_author = permissions.is_member(user) and user.id == proposal.author_id
    offer = RebaseOffer(stale=False, is_author=is_author, is_facilitator=permissions.is_facilitator(user))
    if proposal.status != ProposalStatus.OPEN.value:
        return offer
    if stale is None:
        entry = _entry_for(proposal.element_id)
        if entry is None or entry.is_removed:
            offer.stale, offer.removed, offer.clean = True, True, False
            return _finish_offer(offer, proposal, user)
        if entry.text_id == proposal.base_text_id:
            return offer
        texts = _texts({entry.text_id, proposal.base_text_id})
        current, base = texts[entry.text_id], texts[proposal.base_text_id]
        title = diffing.rebase(base.title, proposal.title, current.title)
        body = diffing.rebase(base.body, proposal.body, current.body)
        offer.stale = True
        offer.current_title, offer.current_body = current.title, current.body
        if title.ok and body.ok:
            offer.diff = TextDiff.between(current.title, current.body, title.text or "", body.text or "")
        else:
            offer.clean = False
            offer.conflicts = [*title.conflicts, *body.conflicts]
    else:
        offer.stale = bool(stale.stale)
        offer.removed = bool(getattr(stale, "removed", False))
        offer.clean = bool(stale.clean) and not offer.removed
        offer.diff = getattr(stale, "diff", None)
        offer.conflicts = list(getattr(stale, "conflicts", []) or [])
        offer.current_title = getattr(stale, "current_title", "")
        offer.current_body = getattr(stale, "current_body", "")
    return _finish_offer(offer, proposal, user)


def _finish_offer(offer: RebaseOffer, proposal: Proposal, user: Any) -> RebaseOffer:
    offer.can_rebase = (
        offer.stale and offer.clean and not offer.removed and permissions.can_rebase_proposal(user, proposal)
    )
    return offer
