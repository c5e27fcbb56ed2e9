"""Who looks after an open proposal in the facilitators' queue, and what a facilitator does to
several selected proposals at once: assign them, or reject them all with one public reason.

State changes take the acting facilitator, check the permission again (`permissions.can_assign`,
`decisions.check_decider`), flush and never commit (the view commits). Each proposal changed gets
its own audit event ("proposal.assigned" / "proposal.unassigned" with the assignee before and
after; a rejection is `decisions.reject_proposal`'s own "proposal.rejected"). Work on a selection
is all or nothing: every proposal is checked before any is changed, and a ValidationError names
each one that cannot be, so that nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..exceptions import Conflict, NotAllowed, ValidationError, WrongState
from ..models import Proposal, ProposalStatus, User, Vision, db, record_event, staff
from ..numbers import whole_number
from ..proposals.services import status_label
from . import decisions

# The most proposals one request may assign or reject (a page of the queue shows 20).
MAX_SELECTED = 100
# The most facilitators offered in an "Assign to" list.
MAX_ASSIGNEES = 500


def facilitators() -> list[User]:
    """The people a proposal can be assigned to: active facilitators and administrators, by name
    (at most MAX_ASSIGNEES); one query."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                staff(),
                User.is_deactivated.is_(False),
                User.is_deleted.is_(False),
            )
            .order_by(User.display_name, User.id)
            .limit(MAX_ASSIGNEES)
        )
    )


def assignee_named(raw: str | None, facilitator: Any, *, field: str = "assignee") -> User | None:
    """The person `raw` names as the assignee: "me" (the acting facilitator), "none" (nobody: None)
    or a facilitator's id. Raises ValidationError (on `field`) for anything else, or a person who
    is not an active facilitator."""
    if raw == "me":
        return facilitator
    if raw == "none":
        return None
    number = whole_number(raw)
    person = db.session.get(User, number) if number is not None else None
    if person is None or not permissions.is_facilitator(person):
        raise ValidationError({field: "Choose a facilitator to assign the proposals to"})
    return person


def _why_not_assigned(proposal: Proposal, assignee: User | None) -> str | None:
    """Why `proposal` cannot be assigned to `assignee` now, in words; None when it can."""
    if proposal.status != ProposalStatus.OPEN.value:
        return f"Proposal {proposal.id} is {status_label(proposal).lower()}: only open proposals are assigned."
    if assignee is not None and proposal.author_id == assignee.id:
        return (
            f"Proposal {proposal.id} was written by {assignee.public_name}, who cannot decide on it: "
            "assign it to another facilitator."
        )
    return None


def _assign(proposal: Proposal, facilitator: User, assignee: User | None) -> None:
    previous = proposal.assignee_id
    if previous == (assignee.id if assignee is not None else None):
        return  # already so: nothing changes, and the record says nothing happened
    proposal.assignee_id = assignee.id if assignee is not None else None
    record_event(
        "proposal.assigned" if assignee is not None else "proposal.unassigned",
        "proposal",
        proposal.id,
        actor=facilitator,
        vision_id=proposal.vision_id,
        assignee_id=proposal.assignee_id,
        previous_assignee_id=previous,
    )


def assign_proposal(proposal: Proposal, facilitator: User, assignee: User | None) -> Proposal:
    """Assign an open proposal to `assignee` (None: to nobody), with an audit event.

    Raises NotAllowed (not a facilitator), WrongState (the proposal is no longer open: 409) and
    ValidationError (`assignee`: the author of the proposal, who cannot decide on it).
    """
    if not permissions.can_assign(facilitator, proposal.vision):
        raise NotAllowed("Only facilitators assign proposals.")
    problem = _why_not_assigned(proposal, assignee)
    if problem is not None:
        if proposal.status != ProposalStatus.OPEN.value:
            raise WrongState(problem)
        raise ValidationError({"assignee": problem})
    _assign(proposal, facilitator, assignee)
    db.session.flush()
    return proposal


# --- several at once ------------------------------------------------------------------------------


def selected_proposals(vision: Vision, raw_ids: Sequence[str]) -> list[Proposal]:
    """The visible proposals of `vision` that a queue's checkboxes name (`selected`), in the order
    of their ids, locked for the change (PostgreSQL; SQLite write requests hold the write lock).

    Raises ValidationError (`selected`) when none is named, more than MAX_SELECTED are, or one is
    not a proposal of this vision's queue (said by its number).
    """
    ids = sorted({number for number in (whole_number(raw) for raw in raw_ids) if number is not None})
    if not ids:
        raise ValidationError({"selected": "Select at least one proposal"})
    if len(ids) > MAX_SELECTED:
        raise ValidationError({"selected": f"Select at most {MAX_SELECTED} proposals at once (you selected {len(ids)})"})
    found = {
        proposal.id: proposal
        for proposal in db.session.scalars(
            select(Proposal)
            .options(joinedload(Proposal.author))
            .where(Proposal.id.in_(ids), Proposal.vision_id == vision.id, Proposal.hidden_at.is_(None))
            .with_for_update(of=Proposal)
            .execution_options(populate_existing=True)
        )
    }
    missing = [number for number in ids if number not in found]
    if missing:
        raise ValidationError(
            {"selected": [f"Proposal {number} is not in the queue of {vision.title}." for number in missing]}
        )
    return [found[number] for number in ids]


def assign_selected(proposals: Sequence[Proposal], facilitator: User, assignee: User | None) -> list[Proposal]:
    """Assign every one of `proposals` to `assignee` (None: to nobody), an audit event each; all
    or nothing. Raises NotAllowed (not a facilitator) and ValidationError (`selected`: one message
    for each proposal that cannot be assigned, and then none is)."""
    if not permissions.is_facilitator(facilitator):
        raise NotAllowed("Only facilitators assign proposals.")
    problems = [_why_not_assigned(proposal, assignee) for proposal in proposals]
    problems = [problem for problem in problems if problem is not None]
    if problems:
        raise ValidationError({"selected": [*problems, "Nothing was assigned."]})
    for proposal in proposals:
        _assign(proposal, facilitator, assignee)
    db.session.flush()
    return list(proposals)


def reject_selected(proposals: Sequence[Proposal], facilitator: User, reason: str | None) -> list[Proposal]:
    """Reject every one of `proposals` with the same public reason, each through
    `decisions.reject_proposal` (its decision fields and its own audit event); all or nothing.

    Raises NotAllowed (not a facilitator) and ValidationError: `selected` with one message for each
    proposal that cannot be rejected (not open, or the facilitator's own), `reason` when it is
    missing, too long or disguised; then nothing is rejected.
    """
    if not permissions.is_facilitator(facilitator):
        raise NotAllowed("Only facilitators reject proposals.")
    problems = []
    for proposal in proposals:
        try:
            decisions.check_decider(proposal, facilitator, "reject")
        except (Conflict, NotAllowed) as refusal:
            problems.append(f"Proposal {proposal.id}: {_refusal_words(proposal, refusal)}")
    errors: dict[str, list[str]] = {}
    if problems:
        errors["selected"] = [*problems, "Nothing was rejected."]
    if not (reason or "").strip():
        errors["reason"] = ["Enter the reason for rejecting these proposals. It is shown publicly on each of them"]
    if errors:
        raise ValidationError(errors)
    for proposal in proposals:
        decisions.reject_proposal(proposal, facilitator, reason)  # a bad reason raises before any change
    return list(proposals)


def _refusal_words(proposal: Proposal, refusal: Exception) -> str:
    if proposal.status != ProposalStatus.OPEN.value:
        return f"it is {status_label(proposal).lower()} already."
    return str(getattr(refusal, "message", "") or refusal)
