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

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from ..drafting.structure import Addition, apply_addition, plan_addition
from ..exceptions import ValidationError, WrongState
from ..models import DraftEntry, ElementText, Proposal, User, Vision, db, record_event
from ..proposals.rebase import draft_entry
from ..visions.services import element_removal, lock_vision
from .edit import Applied

# Accepting takes the proposal's words as written: the accept form's title and body are not read.
PROPOSES_TEXT = False


@dataclass
class AdditionPlan:
    """What the accept page of an addition shows: the addition in words against the draft as it is
    now (`words`, "New objective under Ambition 2, at position 3") and the new text, or why it
    cannot be accepted (`mode` "conflicted", said in `refusal`)."""

    template: ClassVar[str] = "facilitation/accept_add.html"

    mode: str  # "add" or "conflicted"
    reason: str | None
    base: ElementText
    current: ElementText | None
    expected_text_id: int | None
    revision: int
    words: str = ""
    refusal: str | None = None
    result: Any = None
    conflicts: list[Any] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return False  # it changes no words of the element it is filed under


def where_it_goes(vision: Vision, proposal: Proposal, under: DraftEntry | None) -> tuple[Addition | None, str | None]:
    """The addition the proposal asks for, checked by the rule for additions against the draft as
    it is now, or why it cannot be made, in words (then the proposal is conflicted)."""
    if under is None or under.is_removed:
        removal = element_removal(vision, proposal.element.key)
        name = removal.last_label if removal else "The ambition it would go under"
        return None, (
            f"{name}, the ambition this proposal would add to, has been removed from the working draft, "
            "so the addition cannot be made"
        )
    parent_key = proposal.element.key if proposal.target_parent_id is not None else None
    try:
        kind = proposal.new_element_kind or ""
        return plan_addition(vision, kind, parent_key=parent_key, position=proposal.target_position), None
    except ValidationError as error:
        return None, f"The addition cannot be made as proposed: {' '.join(error.messages)}"


def plan(proposal: Proposal, *, prepared_from_id: int | None = None, submitted: Any = None, reason: str | None = None) -> AdditionPlan:
    """What accepting the addition would do now; reads only (`prepared_from_id` and `submitted`,
    which an edit's page carries over, mean nothing here)."""
    under = draft_entry(proposal.element_id)
    current = under.text if under is not None and not under.is_removed else None
    planned = AdditionPlan(
        mode="add", reason=reason, base=proposal.base_text, current=current,
        expected_text_id=current.id if current is not None else None, revision=proposal.revision_count,
    )
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
