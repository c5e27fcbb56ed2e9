"""The working draft: facilitators' direct edits (edit a text, add, remove, move an element).

Every function takes plain values and the acting user, checks the permission again (raising
NotAllowed), flushes and never commits (the view commits). Problems with what was typed raise
`ValidationError` with messages per field; an out-of-date form raises `DraftConflict`; an element
that does not exist (or cannot hold what was asked) raises `NotFound`.

Every change writes a DraftChange (who, what, why: it feeds the next version's changelog) and an
audit event. Nothing is deleted: a removed element's DraftEntry is marked `is_removed`.

Decisions:
- An element with objectives or enabling conditions cannot be removed directly until they are
  removed: each removal is its own decision with its own reason, and the open proposals on each are
  closed with it. The vision statement and the only ambition cannot be removed. Taking an element
  out of the draft is one rule (`structure.take_out_of_draft`), shared with accepted proposals to
  remove one (which take its children with it).
- Moving an element changes its place among siblings of the same kind (objectives stay before
  enabling conditions: numbering is per kind): one step up or down, or to any position under any
  ambition (`move_element_to`; the rules are in `structure.py`). Positions and parents are
  rewritten without touching the entries' lock versions: the lock guards an element's *text*, so
  a move never makes someone's open edit or accept of that text out of date. Removal does bump it.
- Draft writes take a row lock on the vision (PostgreSQL; SQLite write requests are exclusive from
  their first statement), so two facilitators adding at once cannot get the same key.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm.exc import StaleDataError

from .. import permissions
from ..exceptions import DraftConflict, NotAllowed, NotFound, ValidationError
from ..facilitation.kept_flags import keep_flags_after_text_moved
from ..models import DraftChange, DraftEntry, ElementText, User, Vision, db, record_event
from ..validation import clean_text, fields_with_hidden_characters, has_disguising_characters
from ..visions import services as visions
from ..visions.snapshots import KIND_NAMES, KIND_PLURALS
from .state import children_in_draft, find_entry, siblings_of_kind
from .structure import PARENT_KIND, Move, apply_move, place_in_order, plan_move, lock_open_proposals, removal_refusal, take_out_of_draft

TITLE_MAX = 200
BODY_MAX = 20_000
REASON_MAX = 5_000


# --- checking what people typed -------------------------------------------------------------------


@dataclass(frozen=True)
class ElementWords:
    title: str
    body: str
    reason: str


_FIELD_NAMES = {"title": "title", "body": "text", "reason": "reason"}


def clean_element_words(
    title: str | None, body: str | None, reason: str | None, *, title_required: bool
) -> ElementWords:
    """Normalise an element's title and body and the reason for the change, or raise ValidationError.

    Refuses hidden formatting characters (bidi overrides, zero-width characters) rather than
    silently changing what the person sees. The title is one line of at most 200 characters
    (required unless `title_required` is False: the vision statement has none), the body at most
    20,000 characters and not empty, the reason at most 5,000 characters and not empty.
    """
    raw = {"title": title or "", "body": body or "", "reason": reason or ""}
    errors = fields_with_hidden_characters(raw, _FIELD_NAMES)
    words = ElementWords(
        clean_text(raw["title"], multiline=False),
        clean_text(raw["body"], multiline=True),
        clean_text(raw["reason"], multiline=True),
    )
    if "title" not in errors:
        if title_required and not words.title:
            errors["title"] = "Enter a title"
        elif len(words.title) > TITLE_MAX:
            errors["title"] = f"The title must be {TITLE_MAX} characters or fewer (it has {len(words.title):,})"
    if "body" not in errors:
        if not words.body:
            errors["body"] = "Enter the text"
        elif len(words.body) > BODY_MAX:
            errors["body"] = f"The text must be {BODY_MAX:,} characters or fewer (it has {len(words.body):,})"
    if "reason" not in errors:
        errors.update(_reason_problem(words.reason) or {})
    if errors:
        raise ValidationError(errors)
    return words


def _reason_problem(reason: str) -> dict[str, str] | None:
    if not reason:
        return {"reason": "Say why you are making this change: it is published with the next version"}
    if len(reason) > REASON_MAX:
        return {"reason": f"The reason must be {REASON_MAX:,} characters or fewer (it has {len(reason):,})"}
    return None


def clean_reason(reason: str | None) -> str:
    """A required reason, cleaned; raises ValidationError({"reason": ...})."""
    raw = reason or ""
    if has_disguising_characters(raw):
        raise ValidationError({"reason": "Remove the hidden formatting characters from the reason"})
    cleaned = clean_text(raw, multiline=True)
    problem = _reason_problem(cleaned)
    if problem:
        raise ValidationError(problem)
    return cleaned


# --- the element a change is about -----------------------------------------------------------


def _entry_to_change(vision: Vision, key: str, removed: str) -> DraftEntry:
    """Lock the vision's draft and the element's place in it for a change. Raises NotFound when
    there is no such element, DraftConflict with the message `removed` when it has been removed."""
    visions.lock_vision(vision)
    entry = find_entry(vision, key, for_update=True)
    if entry is None:
        raise NotFound()
    if entry.is_removed:
        raise DraftConflict(removed, entry)
    return entry


def parent_for_new(vision: Vision, kind: str, parent_key: str | None, *, for_update: bool = False) -> DraftEntry | None:
    """The draft entry a new element of `kind` goes under (None: the top level). Raises NotFound
    when `kind` cannot be added, or cannot go under `parent_key` (not in the draft, removed, or not
    the kind that holds it: objectives and enabling conditions go under an ambition)."""
    if kind not in PARENT_KIND:
        raise NotFound()
    if PARENT_KIND[kind] is None:
        if parent_key:
            raise NotFound()
        return None
    # Keys are at most 40 characters: anything longer names nothing.
    parent = find_entry(vision, parent_key, for_update=for_update) if parent_key and len(parent_key) <= 40 else None
    if parent is None or parent.is_removed or parent.element.kind != PARENT_KIND[kind]:
        raise NotFound()
    return parent


def _require(allowed: bool) -> None:
    """The second line of the permission check (the views check first)."""
    if not allowed:
        raise NotAllowed()


def _record_change(vision: Vision, entry: DraftEntry, kind: str, actor: User, reason: str, text_id: int | None) -> DraftChange:
    change = DraftChange(
        vision_id=vision.id,
        element_id=entry.element_id,
        kind=kind,
        actor_id=actor.id,
        reason=reason,
        text_id=text_id,
    )
    db.session.add(change)
    return change


# --- direct edits ---------------------------------------------------------------------------------


def edit_element_text(
    vision: Vision,
    key: str,
    *,
    title: str | None,
    body: str | None,
    reason: str | None,
    lock_version: int | None,
    actor: User,
) -> DraftEntry:
    """Give the element a new text in the working draft (a new immutable ElementText).

    `lock_version` is the entry's lock version the form was prepared with: if the element's text
    changed since (an accept, another edit) or it was removed, raises DraftConflict carrying the
    current entry. Raises ValidationError for bad words or a text equal to the current one,
    NotFound when the element is not in this vision, NotAllowed for non-facilitators.
    """
    _require(permissions.can_edit_draft(actor, vision))
    entry = _entry_to_change(vision, key, "This element has been removed from the working draft, so it cannot be edited.")
    words = clean_element_words(title, body, reason, title_required=entry.element.kind != "statement")
    if lock_version is None or lock_version != entry.lock_version:
        raise DraftConflict(
            "Someone changed this element's text while you were editing it. "
            "Check the current text below; your text is still in the form. Save again to replace it.",
            entry,
        )
    if words.title == entry.text.title and words.body == entry.text.body:
        raise ValidationError({"body": "The text is the same as the current text. Change it before you save"})
    previous_text_id = entry.text_id
    text = ElementText(element_id=entry.element_id, title=words.title, body=words.body, created_by_id=actor.id)
    db.session.add(text)
    db.session.flush()
    entry.text_id = text.id
    try:
        db.session.flush()
    except StaleDataError:
        raise DraftConflict(
            "Someone changed this element's text at the same moment. Check the current text and save again."
        ) from None
    keep_flags_after_text_moved(entry)  # its open proposals' rebase onto the new text
    _record_change(vision, entry, "edit", actor, words.reason, text.id)
    record_event(
        "draft.element_edited",
        "element",
        entry.element_id,
        actor=actor,
        vision_id=vision.id,
        key=key,
        reason=words.reason,
        text_id=text.id,
        previous_text_id=previous_text_id,
    )
    db.session.flush()
    return entry


def add_element_to_draft(
    vision: Vision,
    *,
    kind: str,
    parent_key: str | None,
    title: str | None,
    body: str | None,
    reason: str | None,
    before_key: str | None,
    actor: User,
) -> DraftEntry:
    """Add a new element to the working draft: an ambition at the top level, or an objective or
    enabling condition under an ambition; at the end of its kind (`before_key` None) or before the
    sibling `before_key`. Its key is new and never reused (`visions.services.next_element_key`).

    Raises NotFound when the kind cannot go under that parent (or the parent is not in the
    draft), ValidationError for bad words or an unknown place, NotAllowed for non-facilitators.
    """
    _require(permissions.can_edit_draft(actor, vision))
    if kind not in PARENT_KIND:
        raise NotFound()
    visions.lock_vision(vision)
    parent = parent_for_new(vision, kind, parent_key, for_update=True)
    words = clean_element_words(title, body, reason, title_required=True)
    siblings = siblings_of_kind(vision, parent.element_id if parent else None, kind)
    index = len(siblings)
    if before_key:
        index = next((i for i, s in enumerate(siblings) if s.element.key == before_key), -1)
        if index < 0:
            raise ValidationError({"position": "Choose where to put it from the list"})
    start = 1
    place_in_order(siblings[:index], start)
    place_in_order(siblings[index:], start + index + 1)
    entry = visions.add_element(
        vision,
        kind,
        title=words.title,
        body=words.body,
        parent=parent.element if parent else None,
        position=start + index,
        actor=actor,
        reason=words.reason,
        change_kind="add",
    )
    record_event(
        "draft.element_added",
        "element",
        entry.element_id,
        actor=actor,
        vision_id=vision.id,
        key=entry.element.key,
        kind=kind,
        parent=parent.element.key if parent else None,
        reason=words.reason,
    )
    db.session.flush()
    return entry


@dataclass(frozen=True)
class Removal:
    entry: DraftEntry
    closed_proposals: list[int]


def remove_element_from_draft(vision: Vision, key: str, *, reason: str | None, actor: User) -> Removal:
    """Remove the element from the working draft (its entry is kept, marked removed) and close its
    open proposals: each becomes "rejected" with the reason "The element was removed from the
    draft: <reason>", with an audit event.

    Refuses (ValidationError) the vision statement, an element that still has objectives or
    enabling conditions in the draft, and a missing reason. Raises DraftConflict if it was already
    removed, NotFound if there is no such element, NotAllowed for non-facilitators.
    """
    _require(permissions.can_edit_draft(actor, vision))
    looked = find_entry(vision, key)
    if looked is not None:  # locked before the entry, in the order an accept takes them
        lock_open_proposals([looked.element_id])
    entry = _entry_to_change(vision, key, "This element had already been removed from the working draft.")
    refusal = removal_refusal(vision, entry)
    if refusal:
        raise ValidationError({"form": refusal})
    children = children_in_draft(entry)
    if children:
        counts = {kind: sum(1 for c in children if c.element.kind == kind) for kind in ("objective", "condition")}
        named = " and ".join(
            f"{n} {KIND_NAMES[kind].lower() if n == 1 else KIND_PLURALS[kind].lower()}"
            for kind, n in counts.items()
            if n
        )
        raise ValidationError({"form": f"Remove its {named} first: each removal needs its own reason"})
    cleaned = clean_reason(reason)
    try:
        taken = take_out_of_draft(
            vision, entry, actor=actor, reason=cleaned, decision=f"The element was removed from the draft: {cleaned}"
        )
    except StaleDataError:
        raise DraftConflict("Someone changed this element at the same moment. Reload the draft and try again.") from None
    return Removal(entry=entry, closed_proposals=taken.closed_proposals)


def move_element_in_draft(
    vision: Vision, key: str, direction: str, *, from_place: int | None, actor: User
) -> DraftEntry:
    """Move the element one place up or down among its siblings of the same kind.

    `from_place` is its place (1, 2, ...) among them when the page was prepared: if it has moved
    since, raises DraftConflict (a double-click never moves it twice). Raises ValidationError when
    it is already first or last (or the direction is unknown), NotFound when there is no such
    element, NotAllowed for non-facilitators.
    """
    _require(permissions.can_edit_draft(actor, vision))
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Choose to move it up or down"})
    entry = _entry_to_change(vision, key, "This element has been removed from the working draft.")
    if entry.element.kind == "statement":
        raise ValidationError({"direction": "The vision statement always comes first"})
    siblings = siblings_of_kind(vision, entry.parent_element_id, entry.element.kind)
    index = next(i for i, s in enumerate(siblings) if s.id == entry.id)
    if from_place is not None and from_place != index + 1:
        raise DraftConflict("This element had already moved since the page was loaded: check where it is now.", entry)
    target = index - 1 if direction == "up" else index + 1
    plural = KIND_PLURALS[entry.element.kind].lower()
    if not 0 <= target < len(siblings):
        raise ValidationError(
            {"direction": f"It is already the {'first' if direction == 'up' else 'last'} of its {plural}"}
        )
    siblings[index], siblings[target] = siblings[target], siblings[index]
    place_in_order(siblings, 1)
    reason = f"Moved {direction}: from place {index + 1} to place {target + 1} among its {plural}."
    _record_change(vision, entry, "reorder", actor, reason, entry.text_id)
    record_event(
        "draft.element_moved",
        "element",
        entry.element_id,
        actor=actor,
        vision_id=vision.id,
        key=key,
        direction=direction,
        from_place=index + 1,
        to_place=target + 1,
    )
    db.session.flush()
    return entry


# --- moving an element anywhere -------------------------------------------------------------------

def move_element_to(
    vision: Vision,
    key: str,
    *,
    parent_key: str | None,
    position: str | int | None,
    from_parent: str | None = None,
    from_position: int | None = None,
    actor: User,
) -> Move:
    """Move the element under any ambition of the draft (objectives and enabling conditions), or
    to any position among its siblings of the same kind; `position` 1 is first, empty is last.

    `from_parent`/`from_position` say where it was when the form was prepared: when it has moved
    since, raises DraftConflict (nothing moves twice). Raises ValidationError per field (see
    `plan_move`), NotFound when there is no such element, DraftConflict when it was removed,
    NotAllowed for non-facilitators. Writes a DraftChange "reorder" whose reason says the move in
    words ("Moved from Ambition 2, position 3, to Ambition 4, position 1.") and an audit event
    "draft.element_moved".
    """
    _require(permissions.can_edit_draft(actor, vision))
    entry = _entry_to_change(vision, key, "This element has been removed from the working draft, so it cannot be moved.")
    move = plan_move(vision, entry, parent_key=parent_key, position=position)
    if from_position is not None and (from_position, from_parent or None) != (move.origin.position, move.origin.parent_key):
        raise DraftConflict("This element had already moved since the page was loaded: check where it is now.", entry)
    apply_move(vision, move)
    words = move.words()
    _record_change(vision, entry, "reorder", actor, f"Moved {words}.", entry.text_id)
    record_event(
        "draft.element_moved",
        "element",
        entry.element_id,
        actor=actor,
        vision_id=vision.id,
        key=key,
        from_parent=move.origin.parent_key,
        from_place=move.origin.position,
        to_parent=move.target.parent_key,
        to_place=move.target.position,
        words=words,
    )
    db.session.flush()
    return move
