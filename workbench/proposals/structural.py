"""Proposals that change the vision's structure, not its words: to remove or move an element (issue 16).

A proposal of these kinds is opened here, and is otherwise a proposal like an edit: it is revised
(its rationale), withdrawn, voted on and discussed through `services.py`, and decided through
`facilitation/decisions.py`. What each kind checks is in its module (`remove.py`, `move.py`); where an element may go is
checked by the one rule for moves, `drafting.structure.plan_move`.
"""

from __future__ import annotations

from ..drafting.structure import Move, plan_move, removal_refusal
from ..exceptions import ValidationError
from ..models import DraftEntry, Element, Proposal, ProposalRevision, User, Vision, db
from . import move, remove
from .services import current_entry, entry_to_propose_on, revise_proposal, write_new_proposal


def why_not_removable(vision: Vision, element: Element) -> str | None:
    """Why nobody may propose to remove `element` (the vision statement, the only ambition), in
    words, or None. Reads only."""
    entry = current_entry(element)
    return removal_refusal(vision, entry) if entry is not None else None


def propose_removal(vision: Vision, element: Element, author: User, rationale: str | None) -> Proposal:
    """Open a proposal to remove `element` (and everything under it) from the vision.

    Written against the element's current working text (its base), which it shows as a deletion.
    Raises NotAllowed / WrongState (see `entry_to_propose_on`), and ValidationError for the vision
    statement or the only ambition ("form"), or a missing, too long or disguised rationale.
    """
    entry = entry_to_propose_on(vision, element, author)
    refusal = removal_refusal(vision, entry)
    if refusal:
        raise ValidationError({"form": refusal})
    text = remove.checked_text(None, None, rationale, entry.text, against_current=True)
    return write_new_proposal(vision, element, author, entry, remove, text, kind=remove.NAME)


# --- moves ----------------------------------------------------------------------------------------


def planned_move(vision: Vision, entry: DraftEntry, parent_key: str | None, position: str | int | None) -> Move:
    """The move of `entry` under `parent_key` at `position`, checked by the rule of the direct
    move; raises ValidationError beside "parent" or "position" (or "form" for the statement)."""
    if entry.element.kind == "ambition":
        parent_key = None  # the form offers ambitions no parent: they stay at the top level
    return plan_move(vision, entry, parent_key=parent_key, position=position)


def _target_fields(planned: Move) -> dict[str, int | None]:
    target = planned.target
    return {"target_parent_id": target.parent.element_id if target.parent else None, "target_position": target.position}


def propose_move(
    vision: Vision, element: Element, author: User, *, parent_key: str | None, position: str | int | None, rationale: str | None
) -> Proposal:
    """Open a proposal to move `element` under the ambition `parent_key` (objectives and enabling
    conditions), at `position` among the siblings of its kind (1 is first, empty is last).

    Raises NotAllowed / WrongState (see `entry_to_propose_on`), and ValidationError per field: the
    statement ("form"), a target that is not an ambition of this vision's working draft
    ("parent"), a position out of range or where it already is ("position"), a missing, too long
    or disguised rationale ("rationale"). Nothing is moved: only the proposal is written.
    """
    entry = entry_to_propose_on(vision, element, author)
    errors: dict[str, list[str]] = {}
    planned = None
    try:
        planned = planned_move(vision, entry, parent_key, position)
    except ValidationError as error:
        errors.update(error.errors)
    try:
        text = move.checked_text(None, None, rationale, entry.text, against_current=True)
    except ValidationError as error:
        errors.update(error.errors)
    if errors or planned is None:
        raise ValidationError(errors)
    return write_new_proposal(
        vision, element, author, entry, move, text, columns=_target_fields(planned), kind=move.NAME,
        to_parent=planned.target.parent_key, to_place=planned.target.position, words=planned.words(),
    )


def revise_move(
    proposal: Proposal, author: User, *, parent_key: str | None, position: str | int | None, rationale: str | None
) -> ProposalRevision:
    """The author's new revision of a proposal to move: where it would go, and why.

    The target is checked like a new one (`planned_move`, against the draft as it is now); a
    revision that changes neither the target nor the reason is refused. Raises as
    `services.revise_proposal`, and ValidationError beside "parent" / "position", or "form" when
    the element has left the working draft. Only the latest target is kept (on the proposal);
    each revision's audit event says where it would go.
    """
    vision = proposal.vision
    entry = current_entry(proposal.element)
    if entry is None:
        raise ValidationError({"form": "This element has been removed from the working draft, so it cannot be moved"})
    errors: dict[str, list[str]] = {}
    planned = None
    try:
        planned = planned_move(vision, entry, parent_key, position)
    except ValidationError as error:
        errors.update(error.errors)
    try:
        move.clean_rationale(rationale)
    except ValidationError as error:
        errors.update(error.errors)
    if errors or planned is None:
        raise ValidationError(errors)
    target = _target_fields(planned)
    moved = (target["target_parent_id"], target["target_position"]) != (proposal.target_parent_id, proposal.target_position)
    revision = revise_proposal(
        proposal, author, "", "", rationale, moved=moved,
        details={"to_parent": planned.target.parent_key, "to_place": planned.target.position, "words": planned.words()},
    )
    proposal.target_parent_id, proposal.target_position = target["target_parent_id"], target["target_position"]
    db.session.flush()
    return revision
