"""Where elements sit in the working draft: checking and making a move or an addition a proposal
asks for, and renumbering siblings.

The one place for the rules of the draft's structure, used by facilitators' direct moves
(`edits.move_element_to`) and by accepted proposals to move an element: ambitions sit at the top
level, objectives and enabling conditions under an ambition; positions count among siblings of the
same kind (numbering is per kind), from 1. Positions and parents are rewritten without touching the
entries' lock versions: the lock guards an element's *text*. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ..exceptions import ValidationError
from ..models import DraftChange, DraftEntry, Proposal, ProposalStatus, User, Vision, db, record_event, utcnow
from ..numbers import whole_number
from ..visions import services as visions
from ..visions.snapshots import KIND_NAMES, KIND_PLURALS
from .state import children_in_draft, find_entry, siblings_of_kind

# What may be added, and under what: ambitions at the top level, the rest under an ambition.
PARENT_KIND = {"ambition": None, "objective": "ambition", "condition": "ambition"}


def place_in_order(entries: list[DraftEntry], start: int) -> None:
    """Give `entries` the positions start, start+1, ... in list order, without bumping their lock
    versions (a move is not a change of text); the loaded objects are updated to match."""
    moved = [(entry, start + i) for i, entry in enumerate(entries) if entry.position != start + i]
    if not moved:
        return
    table = DraftEntry.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("entry_id")).values(position=bindparam("new_position")),
        [{"entry_id": entry.id, "new_position": position} for entry, position in moved],
    )
    for entry, position in moved:
        # Record the new value as loaded state: no UPDATE (and no lock bump) at flush.
        set_committed_value(entry, "position", position)


STATEMENT_STAYS = "The vision statement always comes first: it cannot be moved"


@dataclass(frozen=True)
class Place:
    """Where an element sits: under `parent` (an ambition's entry, or None for the top level), at
    `position` (1, 2, ...) among the siblings of its kind; `parent_label` is "Ambition 2" (None at
    the top level)."""

    parent: DraftEntry | None
    parent_label: str | None
    position: int

    @property
    def parent_key(self) -> str | None:
        return self.parent.element.key if self.parent is not None else None

    def words(self) -> str:
        """"Ambition 2, position 3", or "position 3" at the top level."""
        return f"{self.parent_label}, position {self.position}" if self.parent_label else f"position {self.position}"


@dataclass(frozen=True)
class Move:
    """A move checked against the draft as it is: `entry` from `origin` to `target`."""

    entry: DraftEntry
    origin: Place
    target: Place

    def words(self) -> str:
        """"from Ambition 2, position 3, to Ambition 4, position 1" (ambitions: "from position 2
        to position 4 among the ambitions")."""
        if self.origin.parent_label is None:
            plural = KIND_PLURALS[self.entry.element.kind].lower()
            return f"from position {self.origin.position} to position {self.target.position} among the {plural}"
        return f"from {self.origin.words()}, to {self.target.words()}"


def _ambition_labels(vision: Vision) -> dict[int, str]:
    """element id -> "Ambition n" for the ambitions of the draft (one query)."""
    ambitions = siblings_of_kind(vision, None, "ambition")
    return {a.element_id: f"{KIND_NAMES['ambition']} {i + 1}" for i, a in enumerate(ambitions)}


def _target_parent(vision: Vision, kind: str, parent_key: str | None) -> DraftEntry | None:
    """The entry an element of `kind` may be moved under (None: the top level), or ValidationError
    beside the "parent" field: the parent must exist in this vision's draft and be an ambition for
    objectives and enabling conditions; ambitions sit at the top level."""
    wanted = PARENT_KIND[kind]
    name = KIND_NAMES[kind].lower()
    if wanted is None:
        if parent_key:
            # No field to put it beside: the form offers ambitions no parent.
            raise ValidationError({"form": f"An {name} cannot go under another element: ambitions sit at the top level"})
        return None
    parent = find_entry(vision, parent_key, for_update=True) if parent_key and len(parent_key) <= 40 else None
    if parent is None or parent.is_removed:
        raise ValidationError({"parent": "Choose an ambition of this vision from the list"})
    if parent.element.kind != wanted:
        article = "An" if name[0] in "aeiou" else "A"
        raise ValidationError({"parent": f"{article} {name} goes under an ambition: choose an ambition from the list"})
    return parent


def plan_move(vision: Vision, entry: DraftEntry, *, parent_key: str | None, position: str | int | None) -> Move:
    """Check a move of `entry` under `parent_key` at `position` (1 is first; None or "" is last)
    against the draft as it is now, or raise ValidationError per field ("form": the statement;
    "parent": a target that is not an ambition of this vision's draft, or of the wrong kind;
    "position": not a whole number from 1 to the number of places, or where it already is).
    Reads only."""
    kind = entry.element.kind
    if kind == "statement" or kind not in PARENT_KIND:
        raise ValidationError({"form": STATEMENT_STAYS})
    target_parent = _target_parent(vision, kind, parent_key)
    labels = _ambition_labels(vision)
    siblings = siblings_of_kind(vision, entry.parent_element_id, kind)
    origin = Place(
        parent=None if entry.parent_element_id is None else find_entry_by_id(entry.parent_element_id),
        parent_label=labels.get(entry.parent_element_id) if entry.parent_element_id else None,
        position=next(i for i, s in enumerate(siblings) if s.id == entry.id) + 1,
    )
    target_id = target_parent.element_id if target_parent else None
    same_parent = target_id == entry.parent_element_id
    places = len(siblings) if same_parent else len(siblings_of_kind(vision, target_id, kind)) + 1
    raw = "" if position is None else str(position).strip()
    to_position = places if raw == "" else whole_number(raw, minimum=1, maximum=places)
    if to_position is None:
        plural = KIND_PLURALS[kind].lower()
        where = f"under {labels.get(target_id)}" if target_id else "at the top level"
        raise ValidationError(
            {"position": f"Enter a position from 1 to {places} (there {'is' if places == 1 else 'are'} {places} "
             f"place{'' if places == 1 else 's'} for {plural} {where}); 1 puts it first"}
        )
    if same_parent and to_position == origin.position:
        raise ValidationError({"position": "It is already there: choose another ambition or position"})
    target = Place(parent=target_parent, parent_label=labels.get(target_id) if target_id else None, position=to_position)
    return Move(entry=entry, origin=origin, target=target)


def find_entry_by_id(element_id: int) -> DraftEntry | None:
    return db.session.scalar(select(DraftEntry).options(joinedload(DraftEntry.element)).where(DraftEntry.element_id == element_id))


def apply_move(vision: Vision, move: Move) -> None:
    """Put the element where `move` says and renumber the siblings it leaves and joins, without
    bumping lock versions (a move is not a change of text)."""
    entry, kind = move.entry, move.entry.element.kind
    target_id = move.target.parent.element_id if move.target.parent else None
    if target_id != entry.parent_element_id:
        place_in_order([s for s in siblings_of_kind(vision, entry.parent_element_id, kind) if s.id != entry.id], 1)
        table = DraftEntry.__table__
        db.session.execute(update(table).where(table.c.id == entry.id).values(parent_element_id=target_id))
        set_committed_value(entry, "parent_element_id", target_id)
    others = [s for s in siblings_of_kind(vision, target_id, kind) if s.id != entry.id]
    index = move.target.position - 1
    place_in_order(others[:index] + [entry] + others[index:], 1)


# --- adding an element, as a proposal asks -------------------------------------------------------


@dataclass(frozen=True)
class Addition:
    """A new element of `kind` checked against the draft as it is: where it would go (`target`)."""

    kind: str
    target: Place

    def words(self) -> str:
        """"New objective under Ambition 2, at position 3" ("New ambition, at position 6 among the
        ambitions")."""
        name = KIND_NAMES[self.kind].lower()
        if self.target.parent_label is None:
            return f"New {name}, at position {self.target.position} among the {KIND_PLURALS[self.kind].lower()}"
        return f"New {name} under {self.target.parent_label}, at position {self.target.position}"


def plan_addition(vision: Vision, kind: str, *, parent_key: str | None, position: str | int | None) -> Addition:
    """Check a new element of `kind` under `parent_key` (an ambition; None for an ambition, which
    sits at the top level) at `position` among the siblings of its kind (1 is first; None or "" is
    last) against the draft as it is now, or raise ValidationError per field ("kind": not an
    ambition, objective or enabling condition; "parent" / "form": see `plan_move`; "position": not a
    whole number from 1 to one more than the siblings there: a position beyond the end is refused,
    never moved to the end). Reads only."""
    if kind not in PARENT_KIND:
        raise ValidationError({"kind": "Choose what to add: an objective, an enabling condition or an ambition"})
    parent = _target_parent(vision, kind, parent_key)
    parent_id = parent.element_id if parent else None
    labels = _ambition_labels(vision)
    places = len(siblings_of_kind(vision, parent_id, kind)) + 1
    raw = "" if position is None else str(position).strip()
    to_position = places if raw == "" else whole_number(raw, minimum=1, maximum=places)
    if to_position is None:
        plural = KIND_PLURALS[kind].lower()
        where = f"under {labels.get(parent_id)}" if parent_id else "at the top level"
        raise ValidationError(
            {"position": f"Enter a position from 1 to {places} (there {'is' if places == 1 else 'are'} {places} "
             f"place{'' if places == 1 else 's'} for {plural} {where}); 1 puts it first, {places} last"}
        )
    return Addition(kind, Place(parent=parent, parent_label=labels.get(parent_id) if parent_id else None, position=to_position))


def apply_addition(
    vision: Vision, addition: Addition, *, title: str, body: str, written_by: User, actor: User, reason: str, proposal_id: int
) -> DraftEntry:
    """Create the new element (a new key, never reused: `visions.services.add_element`) with its
    first text (by `written_by`) where `addition` says, moving the siblings from that position one
    place down (without bumping their lock versions). Its DraftChange "add" names `actor` (who
    decided), `reason` and the proposal it came from."""
    parent = addition.target.parent
    siblings = siblings_of_kind(vision, parent.element_id if parent else None, addition.kind)
    index = addition.target.position - 1
    place_in_order(siblings[:index], 1)
    place_in_order(siblings[index:], index + 2)
    entry = visions.add_element(
        vision, addition.kind, title=title, body=body, parent=parent.element if parent else None,
        position=index + 1, actor=written_by, reason=reason, change_kind="add",
    )
    change = db.session.scalar(select(DraftChange).where(DraftChange.element_id == entry.element_id))
    change.actor_id, change.proposal_id = actor.id, proposal_id
    db.session.flush()
    return entry


# --- taking elements out of the draft -------------------------------------------------------------


def removal_refusal(vision: Vision, entry: DraftEntry) -> str | None:
    """Why the element cannot be removed from the draft at all, in words, or None: the vision
    statement stays, and so does the last ambition (a vision needs at least one)."""
    kind = entry.element.kind
    if kind == "statement":
        return "The vision statement cannot be removed: edit its text instead"
    if kind == "ambition" and len(siblings_of_kind(vision, None, "ambition")) <= 1:
        return "This is the only ambition in the draft, and a vision needs at least one: it cannot be removed"
    return None


def lock_open_proposals(element_ids: list[int], *, except_id: int | None = None) -> None:
    """Lock the open proposals on these elements (PostgreSQL) before the draft entries: an accept
    locks its proposal, then the entry, so a removal takes its locks in that order too and the
    two queue one behind the other instead of deadlocking."""
    query = select(Proposal.id).where(Proposal.element_id.in_(element_ids), Proposal.status == ProposalStatus.OPEN.value)
    if except_id is not None:
        query = query.where(Proposal.id != except_id)
    db.session.execute(query.order_by(Proposal.id).with_for_update())


@dataclass(frozen=True)
class TakenOut:
    """What `take_out_of_draft` removed: the element's entry and those of its children, and the
    open proposals it closed."""

    entries: list[DraftEntry]
    closed_proposals: list[int]


def take_out_of_draft(
    vision: Vision, entry: DraftEntry, *, actor: User, reason: str, decision: str, proposal_id: int | None = None
) -> TakenOut:
    """The one place an element leaves the working draft: its entry and those of its objectives and
    enabling conditions are marked removed (kept, never deleted; their lock versions move, so an
    accept prepared against them is refused), each with a DraftChange "remove" (`reason`; it
    names `proposal_id` when a proposal removed it), and every open proposal on them (except
    `proposal_id`) is closed as rejected with the public reason `decision`, with an audit event.

    The caller checks the permission and `removal_refusal`. Raises StaleDataError when an entry
    changed under the write (nothing is kept then: the caller rolls back).
    """
    entries = [entry, *children_in_draft(entry)]
    for each in entries:
        each.is_removed = True
    db.session.flush()
    now = utcnow()
    for each in entries:
        db.session.add(
            DraftChange(
                vision_id=vision.id, element_id=each.element_id, kind="remove", actor_id=actor.id,
                reason=reason, text_id=each.text_id, proposal_id=proposal_id, created_at=now,
            )
        )
    keys = {each.element_id: each.element.key for each in entries}
    query = select(Proposal).where(Proposal.element_id.in_(keys), Proposal.status == ProposalStatus.OPEN.value)
    if proposal_id is not None:
        query = query.where(Proposal.id != proposal_id)
    proposals = db.session.scalars(query.order_by(Proposal.id).with_for_update()).all()
    for proposal in proposals:
        proposal.status = ProposalStatus.REJECTED.value
        proposal.decided_by_id = actor.id
        proposal.decided_at = now
        proposal.decision_reason = decision
        proposal.updated_at = now
        record_event(
            "proposal.rejected", "proposal", proposal.id, actor=actor, vision_id=vision.id,
            reason=decision, element_removed=True, key=keys[proposal.element_id],
        )
    closed = [p.id for p in proposals]
    record_event(
        "draft.element_removed", "element", entry.element_id, actor=actor, vision_id=vision.id,
        key=entry.element.key, reason=reason, closed_proposals=closed,
        **({"with_children": [e.element.key for e in entries[1:]]} if len(entries) > 1 else {}),
        **({"proposal_id": proposal_id} if proposal_id is not None else {}),
    )
    db.session.flush()
    return TakenOut(entries, closed)
