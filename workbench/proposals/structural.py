"""Proposals that change the vision's structure: to remove, move or add an element (issue 16).

A proposal of these kinds is opened here, and is otherwise a proposal like an edit: it is revised
(its rationale), withdrawn, voted on and discussed through `services.py`, and decided through
`facilitation/decisions.py`. What each kind checks is in its module (`remove.py`, `move.py`); where an element may go is
checked by the one rule for moves, `drafting.structure.plan_move`; where a new element may go by
`drafting.structure.plan_addition`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..drafting.structure import Addition, Move, plan_addition, plan_move, removal_refusal
from ..exceptions import ValidationError
from ..models import DraftEntry, Element, Proposal, ProposalRevision, User, Vision, db
from . import add, move, remove
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


def _every_problem(*checks: Callable[[], Any]) -> tuple[Any, ...]:
    """What each check returns, in order; or ValidationError with every check's problems at once
    (per field), so that a form shows them all together."""
    errors: dict[str, list[str]] = {}
    results = []
    for check in checks:
        try:
            results.append(check())
        except ValidationError as error:
            errors.update(error.errors)
    if errors:
        raise ValidationError(errors)
    return tuple(results)


# --- moves ----------------------------------------------------------------------------------------


def planned_move(vision: Vision, entry: DraftEntry, parent_key: str | None, position: str | int | None) -> Move:
    """The move of `entry` under `parent_key` at `position`, checked by the rule of the direct
    move; raises ValidationError beside "parent" or "position" (or "form" for the statement)."""
    if entry.element.kind == "ambition":
        parent_key = None  # the form offers ambitions no parent: they stay at the top level
    return plan_move(vision, entry, parent_key=parent_key, position=position)


def _target_fields(planned: Move | Addition) -> dict[str, int | None]:
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
    planned, text = _every_problem(
        lambda: planned_move(vision, entry, parent_key, position),
        lambda: move.checked_text(None, None, rationale, entry.text, against_current=True),
    )
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
    planned, _ = _every_problem(lambda: planned_move(vision, entry, parent_key, position), lambda: move.clean_rationale(rationale))
    target = _target_fields(planned)
    moved = (target["target_parent_id"], target["target_position"]) != (proposal.target_parent_id, proposal.target_position)
    revision = revise_proposal(
        proposal, author, "", "", rationale, moved=moved,
        details={"to_parent": planned.target.parent_key, "to_place": planned.target.position, "words": planned.words()},
    )
    proposal.target_parent_id, proposal.target_position = target["target_parent_id"], target["target_position"]
    db.session.flush()
    return revision


# --- additions ------------------------------------------------------------------------------------


def planned_addition(vision: Vision, under: DraftEntry, kind: str | None, position: str | int | None) -> Addition:
    """The new element of `kind` proposed under `under` (an ambition; the vision statement for a new
    ambition) at `position`, checked by the rule for additions; raises ValidationError beside
    "kind" or "position" (or "form" under an element that takes no new elements)."""
    checked = add.check_kind(under.element.kind, kind)
    parent_key = under.element.key if under.element.kind == "ambition" else None
    return plan_addition(vision, checked, parent_key=parent_key, position=position)


def propose_addition(
    vision: Vision, under: Element, author: User, *, kind: str | None, position: str | int | None,
    title: str | None, body: str | None, rationale: str | None,
) -> Proposal:
    """Open a proposal to add a new element: an objective or enabling condition (`kind`) under the
    ambition `under`, or an ambition under the vision statement `under`, at `position` among the
    siblings of its kind (1 is first, empty is last), with its title, body and the reason.

    Raises NotAllowed / WrongState (see `entry_to_propose_on`: outside the window, an element of
    another vision, one removed from the draft), and ValidationError per field: "form" under an
    element that takes no new elements (an objective), "kind" (not one that goes there, e.g. a
    statement), "position" (not a whole number from 1 to one past the last: never clamped),
    "title" (empty or too long), "body", "rationale" (as an edit's text). Nothing is added to the
    draft: only the proposal is written, filed under `under`.
    """
    entry = entry_to_propose_on(vision, under, author)
    planned, text = _every_problem(
        lambda: planned_addition(vision, entry, kind, position),
        lambda: add.checked_text(title, body, rationale, entry.text, against_current=True),
    )
    columns = {**_target_fields(planned), "new_element_kind": planned.kind}
    return write_new_proposal(
        vision, under, author, entry, add, text, columns=columns, kind=add.NAME,
        new_kind=planned.kind, to_parent=planned.target.parent_key, to_place=planned.target.position, words=planned.words(),
    )


def revise_addition(
    proposal: Proposal, author: User, *, position: str | int | None, title: str | None, body: str | None, rationale: str | None
) -> ProposalRevision:
    """The author's new revision of a proposal to add: the new element's title and body, its
    position, and the reason (what it adds, and under what, stay: to propose another kind, or under
    another ambition, withdraw it and propose again).

    The position is checked like a new one, against the draft as it is now. Raises as
    `services.revise_proposal` (also for a revision that changes nothing), and ValidationError
    beside "position", or "form" when the ambition it would go under has left the working draft.
    """
    entry = current_entry(proposal.element)
    if entry is None:
        raise ValidationError({"form": "The ambition it would go under has been removed from the working draft, so this proposal cannot be changed"})
    planned, _ = _every_problem(
        lambda: planned_addition(proposal.vision, entry, proposal.new_element_kind, position),
        lambda: add.checked_text(title, body, rationale, entry.text, against_current=False),
    )
    moved = planned.target.position != proposal.target_position
    revision = revise_proposal(
        proposal, author, title or "", body or "", rationale or "", moved=moved,
        details={"to_place": planned.target.position, "words": planned.words()},
    )
    proposal.target_position = planned.target.position
    db.session.flush()
    return revision
