"""The working draft: facilitators' direct edits, and the consultation window.

Every function takes plain values and the acting user, checks the permission again (raising
NotAllowed), flushes and never commits (the view commits). Problems with what was typed raise
`ValidationError` with messages per field; an out-of-date form raises `DraftConflict`; an element
that does not exist (or cannot hold what was asked) raises `LookupError` (a 404 for the view).

Every change writes a DraftChange (who, what, why: it feeds the next version's changelog) and an
audit event. Nothing is deleted: a removed element's DraftEntry is marked `is_removed`.

Decisions:
- An element with objectives or enabling conditions cannot be removed until they are removed:
  each removal is its own decision with its own reason, and the open proposals on each are closed
  with it. The vision statement cannot be removed.
- Moving an element changes only its place among siblings of the same kind (objectives stay
  before enabling conditions: numbering is per kind). Positions are rewritten without touching the
  entries' lock versions: the lock guards an element's *text*, so a reorder never makes someone's
  open edit or accept of that text out of date. Removal does bump it.
- Draft writes take a row lock on the vision (PostgreSQL; SQLite write requests are exclusive from
  their first statement), so two facilitators adding at once cannot get the same key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from .. import permissions
from ..caching import app_cache
from ..models import (
    DraftChange,
    DraftEntry,
    Element,
    ElementText,
    Proposal,
    ProposalStatus,
    User,
    Vision,
    db,
    record_event,
    utcnow,
)
from ..exceptions import ValidationError
from ..validation import clean_text, has_disguising_characters
from ..history import services as history
from ..history.documents import DocumentDiff
from ..visions import services as visions
from ..visions.snapshots import KIND_NAMES, KIND_PLURALS, number_tree

TITLE_MAX = 200
BODY_MAX = 20_000
REASON_MAX = 5_000
CHANGES_PER_PAGE = 50
REOPEN_DAYS_MAX = 365
# Aliases built once (building them per query costs more than the query itself).
_PARENT = aliased(Element, name="parent_element")
_ACTOR = aliased(User, name="actor")
_AUTHOR = aliased(User, name="proposal_author")
# What may be added, and under what: ambitions at the top level, the rest under an ambition.
PARENT_KIND = {"ambition": None, "objective": "ambition", "condition": "ambition"}


# The acting person may not change the draft, publish or manage the window (one class for all).
NotAllowed = visions.NotAllowed


class DraftConflict(Exception):
    """The form was prepared against a draft that has changed since (or the element is gone)."""

    def __init__(self, message: str, entry: DraftEntry | None = None):
        super().__init__(message)
        self.message = message
        self.entry = entry


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
    errors: dict[str, str] = {}
    for name, value in raw.items():
        if has_disguising_characters(value):
            errors[name] = (
                f"Remove the hidden formatting characters (such as right-to-left overrides or "
                f"zero-width spaces) from the {_FIELD_NAMES[name]}"
            )
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


# --- reading the draft ----------------------------------------------------------------------------


def find_entry(vision: Vision, key: str, *, for_update: bool = False) -> DraftEntry | None:
    """The element's place in the working draft (removed or not), with its element and text."""
    query = (
        select(DraftEntry)
        .join(Element, Element.id == DraftEntry.element_id)
        .options(joinedload(DraftEntry.element), joinedload(DraftEntry.text))
        .where(DraftEntry.vision_id == vision.id, Element.key == key)
    )
    if for_update:
        query = query.with_for_update(of=DraftEntry).execution_options(populate_existing=True)
    return db.session.scalar(query)


def _entry_to_change(vision: Vision, key: str, removed: str) -> DraftEntry:
    """Lock the vision's draft and the element's place in it for a change. Raises LookupError when
    there is no such element, DraftConflict with the message `removed` when it has been removed."""
    visions.lock_vision(vision)
    entry = find_entry(vision, key, for_update=True)
    if entry is None:
        raise LookupError(key)
    if entry.is_removed:
        raise DraftConflict(removed, entry)
    return entry


def siblings_of_kind(vision: Vision, parent_element_id: int | None, kind: str) -> list[DraftEntry]:
    """The entries in the draft under the same parent with the same kind, in reading order."""
    return list(
        db.session.scalars(
            select(DraftEntry)
            .join(Element, Element.id == DraftEntry.element_id)
            .options(joinedload(DraftEntry.element))
            .where(
                DraftEntry.vision_id == vision.id,
                DraftEntry.parent_element_id.is_(None)
                if parent_element_id is None
                else DraftEntry.parent_element_id == parent_element_id,
                DraftEntry.is_removed.is_(False),
                Element.kind == kind,
            )
            .order_by(DraftEntry.position, Element.key)
        )
    )


def _place(entries: list[DraftEntry], start: int) -> None:
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


def _require(user: Any, allowed: bool) -> None:
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


def last_change_on(entry: DraftEntry) -> tuple[DraftChange, str] | None:
    """The newest draft change of the element and who made it (public name), or None."""
    row = db.session.execute(
        select(DraftChange, User)
        .outerjoin(User, User.id == DraftChange.actor_id)
        .where(DraftChange.element_id == entry.element_id)
        .order_by(DraftChange.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    change, user = row
    return change, (user.public_name if user is not None else "the system")


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
    LookupError when the element is not in this vision, NotAllowed for non-facilitators.
    """
    _require(actor, permissions.can_edit_draft(actor, vision))
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
    sibling `before_key`. Its key is new and never reused (`services.next_element_key`).

    Raises LookupError when the kind cannot go under that parent (or the parent is not in the
    draft), ValidationError for bad words or an unknown place, NotAllowed for non-facilitators.
    """
    _require(actor, permissions.can_edit_draft(actor, vision))
    if kind not in PARENT_KIND:
        raise LookupError(kind)
    visions.lock_vision(vision)
    parent: DraftEntry | None = None
    if PARENT_KIND[kind] is None:
        if parent_key:
            raise LookupError(parent_key)
    else:
        parent = find_entry(vision, parent_key or "", for_update=True) if parent_key else None
        if parent is None or parent.is_removed or parent.element.kind != PARENT_KIND[kind]:
            raise LookupError(parent_key)
    words = clean_element_words(title, body, reason, title_required=True)
    siblings = siblings_of_kind(vision, parent.element_id if parent else None, kind)
    index = len(siblings)
    if before_key:
        index = next((i for i, s in enumerate(siblings) if s.element.key == before_key), -1)
        if index < 0:
            raise ValidationError({"position": "Choose where to put it from the list"})
    start = 1
    _place(siblings[:index], start)
    _place(siblings[index:], start + index + 1)
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


def children_in_draft(entry: DraftEntry) -> list[DraftEntry]:
    """The element's objectives and enabling conditions still in the draft."""
    return list(
        db.session.scalars(
            select(DraftEntry)
            .options(joinedload(DraftEntry.element), joinedload(DraftEntry.text))
            .where(DraftEntry.parent_element_id == entry.element_id, DraftEntry.is_removed.is_(False))
            .order_by(DraftEntry.position, DraftEntry.id)
        )
    )


def open_proposal_count(entry: DraftEntry) -> int:
    return db.session.scalar(
        select(func.count(Proposal.id)).where(
            Proposal.element_id == entry.element_id, Proposal.status == ProposalStatus.OPEN.value
        )
    ) or 0


def remove_element_from_draft(vision: Vision, key: str, *, reason: str | None, actor: User) -> Removal:
    """Remove the element from the working draft (its entry is kept, marked removed) and close its
    open proposals: each becomes "rejected" with the reason "The element was removed from the
    draft: <reason>", with an audit event.

    Refuses (ValidationError) the vision statement, an element that still has objectives or
    enabling conditions in the draft, and a missing reason. Raises DraftConflict if it was already
    removed, LookupError if there is no such element, NotAllowed for non-facilitators.
    """
    _require(actor, permissions.can_edit_draft(actor, vision))
    entry = _entry_to_change(vision, key, "This element had already been removed from the working draft.")
    if entry.element.kind == "statement":
        raise ValidationError({"form": "The vision statement cannot be removed: edit its text instead"})
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
    entry.is_removed = True
    try:
        db.session.flush()
    except StaleDataError:
        raise DraftConflict("Someone changed this element at the same moment. Reload the draft and try again.") from None
    _record_change(vision, entry, "remove", actor, cleaned, entry.text_id)
    now = utcnow()
    decision = f"The element was removed from the draft: {cleaned}"
    proposals = db.session.scalars(
        select(Proposal)
        .where(Proposal.element_id == entry.element_id, Proposal.status == ProposalStatus.OPEN.value)
        .order_by(Proposal.id)
        .with_for_update()
    ).all()
    for proposal in proposals:
        proposal.status = ProposalStatus.REJECTED.value
        proposal.decided_by_id = actor.id
        proposal.decided_at = now
        proposal.decision_reason = decision
        proposal.updated_at = now
        record_event(
            "proposal.rejected",
            "proposal",
            proposal.id,
            actor=actor,
            vision_id=vision.id,
            reason=decision,
            element_removed=True,
            key=key,
        )
    record_event(
        "draft.element_removed",
        "element",
        entry.element_id,
        actor=actor,
        vision_id=vision.id,
        key=key,
        reason=cleaned,
        closed_proposals=[p.id for p in proposals],
    )
    db.session.flush()
    return Removal(entry=entry, closed_proposals=[p.id for p in proposals])


def move_element_in_draft(
    vision: Vision, key: str, direction: str, *, from_place: int | None, actor: User
) -> DraftEntry:
    """Move the element one place up or down among its siblings of the same kind.

    `from_place` is its place (1, 2, ...) among them when the page was prepared: if it has moved
    since, raises DraftConflict (a double-click never moves it twice). Raises ValidationError when
    it is already first or last (or the direction is unknown), LookupError when there is no such
    element, NotAllowed for non-facilitators.
    """
    _require(actor, permissions.can_edit_draft(actor, vision))
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
    _place(siblings, 1)
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


# --- the draft as a whole -------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftState:
    """The working draft compared with the latest version, for the draft and publish pages.

    `key` identifies this state exactly (the latest version and every entry's place and text id:
    texts are immutable), so anything derived from it can be kept while it holds.
    """

    key: tuple[Any, ...]
    diff: DocumentDiff
    labels: dict[str, str]
    places: dict[str, tuple[int, int]]
    element_count: int


def sibling_places(tree: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """key -> (its place among siblings of its kind, how many there are), for move buttons."""
    groups: dict[tuple[str | None, str], list[str]] = {}
    for element in tree:
        groups.setdefault((element["parent"], element["kind"]), []).append(element["key"])
    return {key: (i + 1, len(keys)) for keys in groups.values() for i, key in enumerate(keys)}


def draft_fingerprint(vision: Vision) -> tuple[tuple[Any, ...], ...]:
    """Where every element of the draft sits and which (immutable) text it has: one light query,
    no texts read. Two drafts with the same fingerprint read the same."""
    parent = _PARENT
    rows = db.session.execute(
        select(Element.key, parent.key, DraftEntry.position, DraftEntry.text_id)
        .join(DraftEntry, DraftEntry.element_id == Element.id)
        .outerjoin(parent, parent.id == DraftEntry.parent_element_id)
        .where(DraftEntry.vision_id == vision.id, DraftEntry.is_removed.is_(False))
        .order_by(Element.key)
    ).all()
    return tuple(tuple(row) for row in rows)


def draft_state(vision: Vision) -> DraftState:
    """The draft's state: one light query for its fingerprint; the texts, the numbering and the
    whole-document diff are read and computed once per state, then kept."""
    key = (vision.id, vision.latest_version_number, draft_fingerprint(vision))

    def build() -> DraftState:
        tree = number_tree(visions.working_rows(vision))
        latest = visions.latest_snapshot(vision)
        old = latest["elements"] if latest else []
        labels = {e["key"]: e["label"] for e in old}
        labels.update((e["key"], e["label"]) for e in tree)
        return DraftState(
            key=key,
            diff=history.diff_trees(old, tree),
            labels=labels,
            places=sibling_places(tree),
            element_count=len(tree),
        )

    return app_cache("draft_state", 16).get_or_compute(key, build)


# --- the changes waiting in the draft -------------------------------------------------------------


@dataclass(frozen=True)
class PendingChange:
    id: int
    kind: str
    element: str
    element_kind: str
    reason: str
    created_at: datetime
    actor: str
    proposal_id: int | None
    proposal_author: str | None
    proposal_hidden: bool


@dataclass(frozen=True)
class ChangesPage:
    changes: list[PendingChange]
    page: int
    pages: int
    total: int


def pending_changes_page(vision: Vision, page: int = 1, per_page: int = CHANGES_PER_PAGE) -> ChangesPage:
    """The draft changes not yet published (imports left out), newest first, one page; two queries."""
    where = [
        DraftChange.vision_id == vision.id,
        DraftChange.version_id.is_(None),
        DraftChange.kind != "import",
    ]
    total = db.session.scalar(select(func.count(DraftChange.id)).where(*where)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    actor, author = _ACTOR, _AUTHOR
    rows = db.session.execute(
        select(
            DraftChange.id,
            DraftChange.kind,
            DraftChange.reason,
            DraftChange.created_at,
            DraftChange.proposal_id,
            Element.key,
            Element.kind.label("element_kind"),
            actor.display_name.label("actor_name"),
            actor.is_deleted.label("actor_deleted"),
            author.display_name.label("author_name"),
            author.is_deleted.label("author_deleted"),
            Proposal.hidden_at,
        )
        .join(Element, Element.id == DraftChange.element_id)
        .outerjoin(actor, actor.id == DraftChange.actor_id)
        .outerjoin(Proposal, Proposal.id == DraftChange.proposal_id)
        .outerjoin(author, author.id == Proposal.author_id)
        .where(*where)
        .order_by(DraftChange.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()

    def name(display: str | None, deleted: bool | None, missing: str) -> str:
        if display is None:
            return missing
        return "a former participant" if deleted else display

    changes = [
        PendingChange(
            id=row.id,
            kind=row.kind,
            element=row.key,
            element_kind=row.element_kind,
            # A hidden proposal's accept note may quote it: hidden content leaves every public page.
            reason="" if row.hidden_at is not None else row.reason,
            created_at=row.created_at,
            actor=name(row.actor_name, row.actor_deleted, "the system"),
            proposal_id=row.proposal_id,
            proposal_author=name(row.author_name, row.author_deleted, "a former participant")
            if row.proposal_id
            else None,
            proposal_hidden=row.hidden_at is not None,
        )
        for row in rows
    ]
    return ChangesPage(changes=changes, page=page, pages=pages, total=total)


# --- the consultation window ----------------------------------------------------------------------


def parse_utc(date_text: str | None, time_text: str | None, prefix: str, what: str) -> datetime | None:
    """A UTC moment from a date ("2025-03-31") and a time ("17:00", default 00:00), or None when
    both are empty. Raises ValidationError on fields `<prefix>_date` / `<prefix>_time`."""
    date_text = (date_text or "").strip()
    time_text = (time_text or "").strip()
    if not date_text and not time_text:
        return None
    errors: dict[str, str] = {}
    day: date | None = None
    at = time(0, 0)
    if not date_text:
        errors[f"{prefix}_date"] = f"Enter the {what} date, or clear the time too"
    else:
        try:
            day = date.fromisoformat(date_text) if len(date_text) == 10 else None
        except ValueError:
            day = None
        if day is None:
            errors[f"{prefix}_date"] = f"Enter the {what} date as a real date, for example 2025-03-31"
    if time_text:
        try:
            at = time.fromisoformat(time_text) if len(time_text) in (5, 8) else None  # type: ignore[assignment]
        except ValueError:
            at = None  # type: ignore[assignment]
        if at is None:
            errors[f"{prefix}_time"] = f"Enter the {what} time in 24-hour UTC, for example 17:00"
    if errors:
        raise ValidationError(errors)
    assert day is not None
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def set_window(vision: Vision, *, opens_at: datetime | None, closes_at: datetime | None, actor: User) -> Vision:
    """Set the consultation window's opening and closing times (UTC; either may be None: no opening
    time means no consultation scheduled, no closing time means open until closed).

    Raises ValidationError when a closing time has no opening time or is not after it, and
    NotAllowed for non-facilitators.
    """
    _require(actor, permissions.can_manage_window(actor, vision))
    if closes_at is not None and opens_at is None:
        raise ValidationError({"opens_date": "Enter when the consultation opens, or clear the closing time too"})
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise ValidationError({"closes_date": "The closing time must be after the opening time"})
    before = (vision.opens_at, vision.closes_at)
    vision.opens_at, vision.closes_at = opens_at, closes_at
    record_event(
        "window.updated",
        "vision",
        vision.id,
        actor=actor,
        vision_id=vision.id,
        opens_at=_iso(opens_at),
        closes_at=_iso(closes_at),
        previous_opens_at=_iso(before[0]),
        previous_closes_at=_iso(before[1]),
    )
    db.session.flush()
    return vision


def close_window(vision: Vision, *, actor: User, now: datetime | None = None) -> Vision:
    """Close the consultation now. Raises ValidationError when it is not open, NotAllowed for
    non-facilitators."""
    _require(actor, permissions.can_manage_window(actor, vision))
    now = (now or utcnow()).replace(microsecond=0)
    if not vision.is_open(now):
        raise ValidationError({"form": "The consultation is not open, so there is nothing to close"})
    previous = vision.closes_at
    vision.closes_at = now
    record_event(
        "window.closed", "vision", vision.id, actor=actor, vision_id=vision.id,
        closes_at=_iso(now), previous_closes_at=_iso(previous),
    )
    db.session.flush()
    return vision


def clean_days(value: str | int | None) -> int:
    """A whole number of days from 1 to 365, or ValidationError({"days": ...})."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 3 or not 1 <= int(text) <= REOPEN_DAYS_MAX:
        raise ValidationError({"days": f"Enter a whole number of days from 1 to {REOPEN_DAYS_MAX}"})
    return int(text)


def reopen_window(vision: Vision, *, days: int, actor: User, now: datetime | None = None) -> Vision:
    """Open the consultation now until `days` days from now (a closed, upcoming or unscheduled
    window). Raises ValidationError when it is already open or `days` is out of range, NotAllowed
    for non-facilitators."""
    _require(actor, permissions.can_manage_window(actor, vision))
    days = clean_days(days)
    now = (now or utcnow()).replace(microsecond=0)
    if vision.is_open(now):
        raise ValidationError({"form": "The consultation is already open: change its closing time instead"})
    before = (vision.opens_at, vision.closes_at)
    if vision.opens_at is None or vision.opens_at > now:
        vision.opens_at = now
    vision.closes_at = now + timedelta(days=days)
    record_event(
        "window.reopened", "vision", vision.id, actor=actor, vision_id=vision.id,
        opens_at=_iso(vision.opens_at), closes_at=_iso(vision.closes_at), days=days,
        previous_opens_at=_iso(before[0]), previous_closes_at=_iso(before[1]),
    )
    db.session.flush()
    return vision


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind)
