"""Accepting a proposal to remove an element (`proposals/remove.py`): what the accept page plans,
and what accepting writes. `decisions.py` finds this module by the proposal's kind.

Accepting takes the element, and everything under it, out of the working draft through the one
rule for that (`drafting.structure.take_out_of_draft`): their other open proposals are closed as
rejected with the reason "Removed from the working draft by accepting proposal N", so that an
edit and a removal of one element never both win. The accept was prepared against the element's
working text (`expected_text_id`): when that text changed meanwhile, nothing is written and the
page is shown again (the facilitator sees what they would now remove).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import func, select

from ..drafting.state import children_in_draft
from ..drafting.structure import lock_open_proposals, removal_refusal, take_out_of_draft
from ..exceptions import DraftMoved, WrongState
from ..models import Proposal, ProposalStatus, User, Vision, db
from ..proposals.rebase import draft_entry
from ..visions.services import lock_vision, working_tree
from .edit import Applied
from .structural import StructuralPlan

# Accepting takes no text: the accept form's title and body are not read.
PROPOSES_TEXT = False

ALREADY_REMOVED = (
    "This element has already been removed from the working draft, so there is nothing left to remove. "
    "Reject the proposal with a reason instead."
)


@dataclass
class RemovalPlan(StructuralPlan):
    """What the accept page of a removal shows: the element's text now (as a deletion), what goes
    with it, how many other open proposals accepting closes, and why it cannot be accepted (when
    `mode` is "removed" or "refused": the element is gone, or is the statement or last ambition)."""

    template: ClassVar[str] = "facilitation/accept_remove.html"
    accepting: ClassVar[str] = "remove"

    goes_with: list[tuple[str, str]] = field(default_factory=list)  # (label, title) of each child
    closing: int = 0

    @property
    def stale(self) -> bool:
        return self.current is None or self.current.id != self.base.id


def plan(proposal: Proposal, *, prepared_from_id: int | None = None, submitted: Any = None, reason: str | None = None) -> RemovalPlan:
    """What accepting the removal would do now; reads only (`prepared_from_id` and `submitted`,
    which an edit's page carries over, mean nothing here)."""
    planned, entry = RemovalPlan.against_draft(proposal, reason)
    if entry is None or planned.current is None:
        planned.mode = "removed"
        return planned
    vision = db.session.get(Vision, proposal.vision_id)
    planned.refusal = removal_refusal(vision, entry)
    if planned.refusal:
        planned.mode = "refused"
        return planned
    children = children_in_draft(entry)
    labels = {row["key"]: row["label"] for row in working_tree(vision)}
    planned.goes_with = [(labels.get(child.element.key, child.element.key), child.text.title) for child in children]
    element_ids = [entry.element_id, *(child.element_id for child in children)]
    planned.closing = db.session.scalar(
        select(func.count(Proposal.id)).where(
            Proposal.element_id.in_(element_ids), Proposal.status == ProposalStatus.OPEN.value, Proposal.id != proposal.id
        )
    ) or 0
    return planned


def closing_reason(proposal: Proposal) -> str:
    """What the proposals that a removal closes say, publicly."""
    return f"The element was removed from the working draft by accepting proposal {proposal.id}: {proposal.rationale}"


def apply(proposal: Proposal, facilitator: User, text: Any, expected_text_id: int | None, now: datetime) -> Applied:
    """Take the element (and everything under it) out of the working draft, if its working text is
    still `expected_text_id`. Raises WrongState (already removed; the statement or the last
    ambition), DraftMoved("moved") (its text changed since the page was prepared), StaleDataError
    (the entry changed under the write)."""
    looked = draft_entry(proposal.element_id)
    if looked is None or looked.is_removed:
        raise WrongState(ALREADY_REMOVED)
    # Locks in the order an edit's accept takes them (its proposal, then the entry): no deadlock.
    lock_open_proposals([looked.element_id, *(c.element_id for c in children_in_draft(looked))], except_id=proposal.id)
    vision = lock_vision(db.session.get(Vision, proposal.vision_id))
    entry = draft_entry(proposal.element_id, lock=True)
    if entry is None or entry.is_removed:
        raise WrongState(ALREADY_REMOVED)
    if expected_text_id != entry.text_id:
        raise DraftMoved("moved")
    refusal = removal_refusal(vision, entry)
    if refusal:
        raise WrongState(f"{refusal}. Reject the proposal with a reason instead.")
    take_out_of_draft(
        vision, entry, actor=facilitator, reason=f"Removed by accepting proposal {proposal.id}.",
        decision=closing_reason(proposal), proposal_id=proposal.id,
    )
    return Applied(entry.text, False, entry.text_id, "as_proposed")

