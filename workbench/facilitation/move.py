"""Accepting a proposal to move an element (`proposals/move.py`): what the accept page plans, and
what accepting writes. `decisions.py` finds this module by the proposal's kind.

Accepting moves the element through the one rule for moves (`drafting.structure.plan_move` and
`apply_move`, as a facilitator's direct move does), checked again against the draft as it is
then. A move is never applied silently somewhere else: when the ambition it would go under has
been removed, or the position no longer exists, or the element already sits there, it is refused
in words (the page says it is conflicted) and the facilitator can reject it with a reason. A move
changes no words, so the element's text may have changed meanwhile: it moves with its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from ..drafting.structure import Move, apply_move, plan_move
from ..exceptions import ValidationError, WrongState
from ..models import DraftChange, DraftEntry, Element, Proposal, User, Vision, db, record_event
from ..proposals.rebase import draft_entry
from ..visions.services import lock_vision
from .edit import Applied
from .structural import StructuralPlan, ambition_removed

# Accepting takes no text: the accept form's title and body are not read.
PROPOSES_TEXT = False

ALREADY_REMOVED = (
    "This element has been removed from the working draft, so it cannot be moved. "
    "Reject the proposal with a reason instead."
)


@dataclass
class MovePlan(StructuralPlan):
    """What the accept page of a move shows: the move in words against the draft as it is now
    (`words`, "from Ambition 1, position 2, to Ambition 2, position 1"), or why it cannot be
    accepted (`mode` "removed": the element is gone; "conflicted": the target is gone, or the
    position no longer fits, said in `refusal`)."""

    template: ClassVar[str] = "facilitation/accept_move.html"
    accepting: ClassVar[str] = "move"

    words: str = ""


def target_refusal(vision: Vision, proposal: Proposal, entry: DraftEntry) -> tuple[Move | None, str | None]:
    """The move the proposal asks for, checked by the rule of the direct move against the draft as
    it is now, or why it cannot be made, in words (then the proposal is conflicted). Reads only
    (on PostgreSQL it locks the target's entry, as the direct move does)."""
    target: Element | None = proposal.target_parent
    if target is not None:
        target_entry = draft_entry(target.id)
        if target_entry is None or target_entry.is_removed:
            return None, ambition_removed(vision, target.key, would="move it under", change="move")
    try:
        return plan_move(vision, entry, parent_key=target.key if target else None, position=proposal.target_position), None
    except ValidationError as error:
        return None, f"The move cannot be made as proposed: {' '.join(error.messages)}"


def plan(proposal: Proposal, *, prepared_from_id: int | None = None, submitted: Any = None, reason: str | None = None) -> MovePlan:
    """What accepting the move would do now; reads only (`prepared_from_id` and `submitted`,
    which an edit's page carries over, mean nothing here)."""
    planned, entry = MovePlan.against_draft(proposal, reason)
    if entry is None or planned.current is None:
        planned.mode = "removed"
        return planned
    move, refusal = target_refusal(db.session.get(Vision, proposal.vision_id), proposal, entry)
    if move is None:
        planned.mode, planned.refusal = "conflicted", refusal
    else:
        planned.words = move.words()
    return planned


def apply(proposal: Proposal, facilitator: User, text: Any, expected_text_id: int | None, now: datetime) -> Applied:
    """Move the element where the proposal says, through the rule of the direct move, with a
    DraftChange "reorder" naming the proposal ("Moved from ... to ..."), so the changelog shows it.
    Raises WrongState (the element or its target is gone, or the move no longer fits), StaleDataError
    (the entry changed under the write)."""
    vision = lock_vision(db.session.get(Vision, proposal.vision_id))
    entry = draft_entry(proposal.element_id, lock=True)
    if entry is None or entry.is_removed:
        raise WrongState(ALREADY_REMOVED)
    move, refusal = target_refusal(vision, proposal, entry)
    if move is None:
        raise WrongState(f"{refusal}. Reject the proposal with a reason instead.")
    apply_move(vision, move)
    words = move.words()
    db.session.add(
        DraftChange(
            vision_id=vision.id, element_id=entry.element_id, kind="reorder", actor_id=facilitator.id,
            reason=f"Moved {words} by accepting proposal {proposal.id}.", text_id=entry.text_id,
            proposal_id=proposal.id, created_at=now,
        )
    )
    record_event(
        "draft.element_moved", "element", entry.element_id, actor=facilitator, vision_id=vision.id,
        key=entry.element.key, from_parent=move.origin.parent_key, from_place=move.origin.position,
        to_parent=move.target.parent_key, to_place=move.target.position, words=words, proposal_id=proposal.id,
    )
    db.session.flush()
    return Applied(entry.text, False, entry.text_id, "as_proposed")
