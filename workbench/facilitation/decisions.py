"""Decisions on proposals: a facilitator accepts, rejects or reopens one; its author brings a stale
one up to date with one click (issue 6, the decision half).

State changes take plain values and the acting user, check the permission again, flush and never
commit (the view commits). They raise (see `workbench/exceptions.py`), with messages in words:

- `NotAllowed` when the person may not act at all;
- `AlreadyDecided` when the decision asked for was made already (accepting an accepted proposal,
  rejecting a rejected one: a double click lands here);
- `WrongState` when the action does not fit the proposal's state (deciding on a withdrawn
  proposal, accepting a rejected one, reopening an open one or outside the consultation window,
  updating a proposal whose element was removed, a kind of proposal this code does not know);
- `DraftMoved` when an accept was prepared against a working text that is no longer current (or
  against an earlier revision of the proposal): nothing is written, and the view shows the strict
  rebase to confirm or the conflict to resolve (`plan_accept`);
- `RebaseConflict` when a stale proposal cannot be carried over to the current text;
- `ValidationError` with messages per field (`title`, `body`, `note`, `reason`);
- SQLAlchemy's `StaleDataError` when the draft entry's lock version moved under an accept (the view
  treats it exactly like `DraftMoved`).

Accepting goes through the proposal's kind: ACCEPTING names, for each kind, the module that plans
it for the accept page and applies it to the working draft (`edit.py`, `remove.py`, `move.py`,
`add.py`).
The DraftChange always names the facilitator as the actor and the proposal it came from, so the
changelog credits both.

Every decision writes an audit event ("proposal.accepted", "proposal.rejected" with its reason,
"proposal.reopened"): the proposal page's decision history is read from them
(`panels.decision_history`). An accept with changes into a working text that moved on also keeps
its resolve record in its event (`resolve_record`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .. import permissions
from ..exceptions import AlreadyDecided, Conflict, DraftMoved, NotAllowed, RebaseConflict, ValidationError, WrongState
from ..models import DraftChange, ElementText, Proposal, ProposalRevision, ProposalStatus, User, db, record_event, utcnow
from ..proposals import add as add_kind
from ..proposals import edit as edit_kind
from ..proposals import move as move_kind
from ..proposals import remove as remove_kind
from ..proposals.kinds import unknown_kind
from ..proposals.rebase import Texts, draft_entry, rebase_onto, texts_by_id
from ..proposals.services import revise_proposal, status_label
from ..validation import clean_text, has_disguising_characters, hidden_characters_message
from . import add, edit, move, remove
from .kept_flags import keep_flags_of

TITLE_MAX = 200
BODY_MAX = 20_000
NOTE_MAX = 5_000
REASON_MAX = 5_000

OWN_PROPOSAL = (
    "This is your own proposal: another facilitator decides on it, so that nobody accepts or "
    "rejects their own words."
)


class AcceptsKind(Protocol):
    """How a kind of proposal is accepted (a module is one: `edit`)."""

    def plan(
        self,
        proposal: Proposal,
        *,
        prepared_from_id: int | None = None,
        submitted: tuple[str, str] | None = None,
        reason: str | None = None,
    ) -> edit.AcceptPlan: ...

    def apply(
        self, proposal: Proposal, facilitator: User, text: Texts, expected_text_id: int | None, now: datetime
    ) -> edit.Applied: ...


ACCEPTING: dict[str, AcceptsKind] = {
    edit_kind.NAME: edit, remove_kind.NAME: remove, move_kind.NAME: move, add_kind.NAME: add,
}


def _accepting(proposal: Proposal) -> AcceptsKind:
    accepting = ACCEPTING.get(proposal.kind)
    if accepting is None:
        raise unknown_kind(proposal)
    return accepting


# --- who may decide -------------------------------------------------------------------------------


def check_decider(proposal: Proposal, facilitator: Any, action: str) -> None:
    """Return when `facilitator` may `action` ("accept" or "reject") the proposal now.

    Raises NotAllowed (not a facilitator, or their own proposal), AlreadyDecided (the decision was
    made already: a second click) or WrongState (no longer open for this decision, said in words).
    """
    if not permissions.is_facilitator(facilitator):
        raise NotAllowed("Only facilitators accept or reject proposals.")
    if proposal.author_id == facilitator.id:
        raise NotAllowed(OWN_PROPOSAL)
    if proposal.status != ProposalStatus.OPEN.value:
        raise _not_open(proposal, action)
    if not permissions.can_decide_proposal(facilitator, proposal):
        raise NotAllowed("This proposal cannot be decided.")


def _not_open(proposal: Proposal, action: str) -> Conflict:
    if proposal.status == ProposalStatus.ACCEPTED.value or (
        proposal.status == ProposalStatus.REJECTED.value and action == "reject"
    ):
        return AlreadyDecided(proposal)
    if proposal.status == ProposalStatus.REJECTED.value:
        return WrongState(
            "This proposal was rejected, so it cannot be accepted. A facilitator can reopen it while "
            "the consultation window is open, and then decide again."
        )
    return WrongState(f"This proposal is {status_label(proposal).lower()}, so it can no longer be {action}ed.")


# --- what facilitators type -----------------------------------------------------------------------


def _clean_field(
    errors: dict[str, str], name: str, value: str | None, *, multiline: bool, limit: int, what: str
) -> str:
    raw = value or ""
    if has_disguising_characters(raw):
        errors[name] = hidden_characters_message(what)
        return ""
    cleaned = clean_text(raw, multiline=multiline)
    if len(cleaned) > limit:
        errors[name] = f"The {what} must be {limit:,} characters or fewer (it has {len(cleaned):,})"
    return cleaned


def clean_accepted_text(title: str | None, body: str | None, note: str | None) -> tuple[Texts, str]:
    """Normalise the text a facilitator accepts and their note, or raise ValidationError per field."""
    errors: dict[str, str] = {}
    title = _clean_field(errors, "title", title, multiline=False, limit=TITLE_MAX, what="title")
    body = _clean_field(errors, "body", body, multiline=True, limit=BODY_MAX, what="text")
    note = _clean_field(errors, "note", note, multiline=True, limit=NOTE_MAX, what="note")
    if "body" not in errors and not body:
        errors["body"] = "Enter the text to accept into the working draft"
    if errors:
        raise ValidationError(errors)
    return Texts(title, body), note


def clean_note(note: str | None) -> str:
    """A facilitator's note on a decision that takes no text, cleaned; or ValidationError({"note"})."""
    errors: dict[str, str] = {}
    cleaned = _clean_field(errors, "note", note, multiline=True, limit=NOTE_MAX, what="note")
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- accepting ------------------------------------------------------------------------------------


def plan_accept(
    proposal: Proposal,
    *,
    prepared_from_id: int | None = None,
    submitted: tuple[str, str] | None = None,
    reason: str | None = None,
) -> edit.AcceptPlan:
    """What the accept page shows for the proposal against the current working text (its kind's
    plan; see `edit.plan`). Reads only. Raises WrongState for a kind this code does not know."""
    return _accepting(proposal).plan(proposal, prepared_from_id=prepared_from_id, submitted=submitted, reason=reason)


@dataclass(frozen=True)
class Accepted:
    proposal: Proposal
    text: ElementText
    with_changes: bool


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
    working text is still `expected_text_id` (see the kind's `apply`): then a new ElementText, the
    draft entry moved to it, a DraftChange "accept", the proposal marked accepted (with changes
    when the text differs from the proposal, or from its clean rebase onto the current text) and
    an audit event.

    Raises NotAllowed, AlreadyDecided or WrongState (see `check_decider`; WrongState also for an
    unknown kind or a removed element), ValidationError (bad text or note, or text that would
    change nothing), DraftMoved (the working text or the proposal changed since the page was
    prepared), StaleDataError (the entry changed under the write).
    """
    check_decider(proposal, facilitator, "accept")
    accepting = _accepting(proposal)
    if getattr(accepting, "PROPOSES_TEXT", True):
        text, note = clean_accepted_text(title, body, note)
    else:  # a change of structure (a removal, a move, an addition as written): only the note is read
        text, note = None, clean_note(note)
    if revision != proposal.revision_count:
        raise DraftMoved("revised")
    now = utcnow()
    applied = accepting.apply(proposal, facilitator, text, expected_text_id, now)
    mark_accepted(
        proposal,
        facilitator,
        text_id=applied.text.id,
        previous_text_id=applied.previous_text_id,
        with_changes=applied.with_changes,
        note=note,
        now=now,
        mode=applied.mode,
        element_id=applied.text.element_id,
        **resolve_record(proposal, applied),
    )
    db.session.flush()
    return Accepted(proposal, applied.text, applied.with_changes)


def mark_accepted(
    proposal: Proposal,
    facilitator: User,
    *,
    text_id: int,
    previous_text_id: int | None,
    with_changes: bool,
    note: str,
    now: Any,
    element_id: int | None = None,
    **details: Any,
) -> None:
    """Record that `proposal` was accepted into the working text `text_id`: its draft change (which
    the next version's changelog credits to its author), its decided state, and its audit event
    (with `details`). The one place for this, whether accepted alone or together with others.
    `element_id` is the element the accepted text belongs to: the proposal's own (the default), or
    the element an addition created."""
    db.session.add(
        DraftChange(
            vision_id=proposal.vision_id,
            element_id=proposal.element_id if element_id is None else element_id,
            kind="accept",
            actor_id=facilitator.id,
            reason=note,
            text_id=text_id,
            proposal_id=proposal.id,
            created_at=now,
        )
    )
    _decide(proposal, ProposalStatus.ACCEPTED, facilitator, now, note, with_changes=with_changes)
    proposal.result_text_id = text_id
    record_event(
        "proposal.accepted",
        "proposal",
        proposal.id,
        actor=facilitator,
        vision_id=proposal.vision_id,
        element_id=proposal.element_id,
        text_id=text_id,
        previous_text_id=previous_text_id,
        base_text_id=proposal.base_text_id,
        revision=proposal.revision_count,
        with_changes=with_changes,
        note=note,
        **details,
    )


def _decide(
    proposal: Proposal, status: ProposalStatus, facilitator: User, now: Any, reason: str, *, with_changes: bool = False
) -> None:
    """Put the decision on the proposal itself: its state, who, when, and the public words."""
    proposal.status = status.value
    proposal.accepted_with_changes = with_changes
    proposal.decided_by_id = facilitator.id
    proposal.decided_at = now
    proposal.decision_reason = reason


def resolve_record(proposal: Proposal, applied: edit.Applied) -> dict[str, Any]:
    """What the accept's audit event keeps so that the proposal page can show apart what the
    facilitator changed themselves and what came from the working text moving on meanwhile.

    Only when accepted with changes into a working text that moved past the proposal's base:
    `carried_over` (the proposal carried over to that text, as far as it applies; the facilitator's
    own changes are measured from it) and `not_carried_over` (the proposal's changes that did not
    apply, in words). Otherwise nothing: the proposal as written is where their changes start.
    """
    if not applied.with_changes or applied.carried_over is None or applied.previous_text_id == proposal.base_text_id:
        return {}
    carried = applied.carried_over
    return {
        "carried_over": {"title": carried.title, "body": carried.body},
        "not_carried_over": list(applied.not_carried_over),
    }


# --- rejecting and reopening ----------------------------------------------------------------------


def reject_proposal(proposal: Proposal, facilitator: User, reason: str | None) -> Proposal:
    """Reject an open proposal with a public reason (required). Nothing is deleted.

    Raises NotAllowed, AlreadyDecided or WrongState (see `check_decider`) and ValidationError
    (`reason` missing, too long or disguised).
    """
    check_decider(proposal, facilitator, "reject")
    errors: dict[str, str] = {}
    cleaned = _clean_field(errors, "reason", reason, multiline=True, limit=REASON_MAX, what="reason")
    if "reason" not in errors and not cleaned:
        errors["reason"] = "Enter the reason for rejecting this proposal. It is shown publicly on the proposal"
    if errors:
        raise ValidationError(errors)
    now = utcnow()
    _decide(proposal, ProposalStatus.REJECTED, facilitator, now, cleaned)
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
        raise NotAllowed("Only facilitators can reopen a proposal.")
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
        raise NotAllowed("This proposal cannot be reopened.")
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
    keep_flags_of(proposal)  # open again: its rebase onto today's working text, for the queue
    return proposal


# --- the author brings a stale proposal up to date ------------------------------------------------


def rebase_proposal(proposal: Proposal, author: User) -> ProposalRevision:
    """The author's one click: carry the proposal's change over to the element's current text.

    Recomputes the strict rebase (`rebase_onto`: base -> proposal, applied to the current text).
    When clean, adds a revision through `proposals.services.revise_proposal` (an immutable
    ProposalRevision based on the current text, mirrored onto the proposal) and an audit event
    "proposal.rebased". Raises NotAllowed for anyone but the author, WrongState when the proposal
    is not open, already applies to the current text, or its element was removed, and
    RebaseConflict when a hunk cannot apply exactly (nothing is written then).
    """
    if not permissions.is_member(author) or proposal.author_id != author.id:
        raise NotAllowed("Only its author can bring a proposal up to date with the current text.")
    if proposal.status != ProposalStatus.OPEN.value:
        raise WrongState(f"This proposal is {status_label(proposal).lower()}, so it can no longer be changed.")
    if not permissions.can_rebase_proposal(author, proposal):
        raise NotAllowed("The consultation is closed, so this proposal can no longer be changed.")
    entry = draft_entry(proposal.element_id, lock=True)
    if entry is None or entry.is_removed:
        raise WrongState("This element has been removed from the working draft, so the proposal cannot be updated.")
    if entry.text_id == proposal.base_text_id:
        raise WrongState("Your proposal already applies to the current text: there is nothing to update.")
    texts = texts_by_id({entry.text_id, proposal.base_text_id})
    current = texts[entry.text_id]
    rebased = rebase_onto(texts[proposal.base_text_id], proposal, current)
    if rebased.text is None:
        raise RebaseConflict(rebased.conflicts)
    if rebased.text == Texts(current.title, current.body):
        raise RebaseConflict(
            [],
            "The current text already contains your change, so there is nothing left to propose. "
            "You could withdraw your proposal.",
        )
    previous_base = proposal.base_text_id
    try:
        revision = revise_proposal(
            proposal, author, rebased.text.title, rebased.text.body, proposal.rationale, base_text_id=current.id
        )
    except ValidationError as error:
        raise RebaseConflict([], " ".join(f"{m.rstrip('.')}." for m in error.messages)) from error
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
