"""Accepting a proposal to add an element (`proposals/add.py`): what the accept page plans, and
what accepting writes. `decisions.py` finds this module by the proposal's kind.

Accepting creates the element with a new key (`<kind>-<n>`, never reused) and the proposal's title
and body as its first text, at the proposal's position among the siblings of its kind, through the
one rule for additions (`drafting.structure.plan_addition` and `apply_addition`), checked again
against the draft as it is then; display numbers follow. An addition is never made somewhere
else: when the ambition it would go under has been removed (an accepted removal took it away), or
its position no longer exists, it is refused in words (the page says it is conflicted) and the
facilitator can reject it with a reason, or its author can revise the position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from ..drafting.structure import Addition, apply_addition, plan_addition
from ..exceptions import ValidationError, WrongState
from ..models import DraftEntry, Proposal, User, Vision, db, record_event
from ..proposals.rebase import draft_entry
from ..visions.services import lock_vision
from .edit import Applied
from .structural import StructuralPlan, ambition_removed

# Accepting takes the proposal's words as written: the accept form's title and body are not read.
PROPOSES_TEXT = False


@dataclass
class AdditionPlan(StructuralPlan):
    """What the accept page of an addition shows: the addition in words against the draft as it is
    now (`words`, "New objective under Ambition 2, at position 3") and the new text, or why it
    cannot be accepted (`mode` "conflicted", said in `refusal`)."""

    template: ClassVar[str] = "facilitation/accept_add.html"
    accepting: ClassVar[str] = "add"

    words: str = ""


def where_it_goes(vision: Vision, proposal: Proposal, under: DraftEntry | None) -> tuple[Addition | None, str | None]:
    """The addition the proposal asks for, checked by the rule for additions against the draft as
    it is now, or why it cannot be made, in words (then the proposal is conflicted)."""
    if under is None or under.is_removed:
        return None, ambition_removed(vision, proposal.element.key, would="add to", change="addition")
    parent_key = proposal.element.key if proposal.target_parent_id is not None else None
    try:
        kind = proposal.new_element_kind or ""
        return plan_addition(vision, kind, parent_key=parent_key, position=proposal.target_position), None
    except ValidationError as error:
        return None, f"The addition cannot be made as proposed: {' '.join(error.messages)}"


def plan(proposal: Proposal, *, prepared_from_id: int | None = None, submitted: Any = None, reason: str | None = None) -> AdditionPlan:
    """What accepting the addition would do now; reads only (`prepared_from_id` and `submitted`,
    which an edit's page carries over, mean nothing here)."""
    planned, under = AdditionPlan.against_draft(proposal, reason)
    addition, refusal = where_it_goes(db.session.get(Vision, proposal.vision_id), proposal, under)
    if addition is None:
        planned.mode, planned.refusal = "conflicted", refusal
    else:
        planned.words = addition.words()
    return planned


def apply(proposal: Proposal, facilitator: User, text: Any, expected_text_id: int | None, now: datetime) -> Applied:
    """Create the new element where the proposal says, with the proposal's title and body as its
    first text (written by the proposal's author); its DraftChange "add" names the proposal and
    says where it went. Raises WrongState when the ambition it would go under is gone or the
    position no longer exists."""
    vision = lock_vision(db.session.get(Vision, proposal.vision_id))
    under = draft_entry(proposal.element_id, lock=True)
    addition, refusal = where_it_goes(vision, proposal, under)
    if addition is None:
        raise WrongState(f"{refusal}. Reject the proposal with a reason instead.")
    words = addition.words()
    entry = apply_addition(
        vision, addition, title=proposal.title, body=proposal.body, written_by=proposal.author, actor=facilitator,
        reason=f"{words}, added by accepting proposal {proposal.id}.", proposal_id=proposal.id,
    )
    record_event(
        "draft.element_added", "element", entry.element_id, actor=facilitator, vision_id=vision.id,
        key=entry.element.key, kind=addition.kind, parent=addition.target.parent_key, to_place=addition.target.position,
        words=words, proposal_id=proposal.id,
    )
    db.session.flush()
    return Applied(entry.text, False, None, "as_proposed")  # type: ignore[arg-type]  # nothing was there before
