"""State changes and queries for visions, the working draft and published versions.

Publishing (`publish_version`) turns the working draft into version n+1: an immutable, self-contained
snapshot with its content hash and an automatic changelog. Published versions never change, so their
parsed snapshots are kept in-process (`parsed_snapshot`, per app, keyed by vision id and number).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

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
    Version,
    Vision,
    db,
    record_event,
    utcnow,
)
from ..exceptions import ValidationError
from ..validation import clean_text, has_disguising_characters
from . import snapshots
from .importer import ElementSpec, VisionSpec


# --- elements -------------------------------------------------------------------------------------


def next_element_key(vision: Vision, kind: str) -> str:
    """`<kind>-<n>`, n counting per vision and kind, never reused (elements are never deleted)."""
    prefix = f"{kind}-"
    keys = db.session.scalars(
        select(Element.key).where(Element.vision_id == vision.id, Element.kind == kind)
    ).all()
    highest = max((int(k.removeprefix(prefix)) for k in keys), default=0)
    return f"{prefix}{highest + 1}"


def add_element(
    vision: Vision,
    kind: str,
    *,
    title: str,
    body: str,
    parent: Element | None,
    position: int,
    actor: User | None,
    reason: str,
    change_kind: str = "add",
) -> DraftEntry:
    """Create an element with its first text and place it in the working draft."""
    element = Element(vision=vision, key=next_element_key(vision, kind), kind=kind)
    db.session.add(element)
    db.session.flush()
    text = ElementText(element=element, title=title, body=body, created_by_id=actor.id if actor else None)
    db.session.add(text)
    db.session.flush()
    entry = DraftEntry(
        vision_id=vision.id,
        element_id=element.id,
        parent_element_id=parent.id if parent else None,
        position=position,
        text_id=text.id,
    )
    db.session.add(entry)
    db.session.add(
        DraftChange(
            vision_id=vision.id,
            element_id=element.id,
            kind=change_kind,
            actor_id=actor.id if actor else None,
            reason=reason,
            text_id=text.id,
        )
    )
    db.session.flush()
    return entry


# --- import ---------------------------------------------------------------------------------------


def import_vision(spec: VisionSpec, *, actor: User | None, publish: bool, notes: str = "") -> Vision:
    """Create a vision from a validated file as its working draft; publish version 1 if asked."""
    if db.session.scalar(select(Vision.id).where(Vision.slug == spec.slug)) is not None:
        raise ValidationError({"slug": f"a vision with the slug {spec.slug!r} already exists"})
    vision = Vision(slug=spec.slug, title=spec.title, summary=spec.summary)
    db.session.add(vision)
    db.session.flush()
    reason = "Imported from a vision file"

    def place(node: ElementSpec, parent: Element | None, position: int) -> None:
        entry = add_element(
            vision,
            node.kind,
            title=node.title,
            body=node.body,
            parent=parent,
            position=position,
            actor=actor,
            reason=reason,
            change_kind="import",
        )
        for child_position, child in enumerate(node.children, start=1):
            place(child, entry.element, child_position)

    place(spec.statement, None, 0)
    for position, ambition in enumerate(spec.ambitions, start=1):
        place(ambition, None, position)
    record_event("vision.imported", "vision", vision.id, actor=actor, vision_id=vision.id, slug=vision.slug)
    if publish:
        publish_version(vision, actor=actor, notes=notes or "First published draft.")
    return vision


# --- the working draft ----------------------------------------------------------------------------

_PARENT = db.aliased(Element, name="parent_element")


def working_rows(vision: Vision, *, for_update: bool = False) -> list[snapshots.TreeRow]:
    """The working draft as tree rows, in one query.

    `for_update` locks the draft entries (PostgreSQL; SQLite's write transactions are exclusive
    already) so that an accept cannot slip between reading the draft and publishing it.
    """
    parent = _PARENT
    query = (
        select(
            Element.key,
            Element.kind,
            parent.key,
            DraftEntry.position,
            ElementText.title,
            ElementText.body,
            ElementText.id,
        )
        .join(DraftEntry, DraftEntry.element_id == Element.id)
        .join(ElementText, ElementText.id == DraftEntry.text_id)
        .outerjoin(parent, parent.id == DraftEntry.parent_element_id)
        .where(DraftEntry.vision_id == vision.id, DraftEntry.is_removed.is_(False))
    )
    if for_update:
        query = query.with_for_update(of=DraftEntry)
    return [snapshots.TreeRow(*row) for row in db.session.execute(query)]


def working_tree(vision: Vision) -> list[dict[str, Any]]:
    """The working draft numbered as it would be published."""
    return snapshots.number_tree(working_rows(vision))


# --- in-process caches of immutable things (workbench/caching.py) -------------------------------


def snapshot_cache() -> Any:
    """The parsed snapshots, by (vision id, version number)."""
    return app_cache("snapshot", 24)


def parsed_snapshot(vision_id: int, number: int, text: str | None = None) -> dict[str, Any] | None:
    """Version `number`'s snapshot as a dict, parsed once per process. Treat it as read-only.

    Give `text` (the stored canonical JSON) when you have it; otherwise it is read (one query).
    Returns None when there is no such version.
    """
    cache = snapshot_cache()
    snapshot = cache.get((vision_id, number))
    if snapshot is None:
        if text is None:
            text = db.session.scalar(
                select(Version.snapshot).where(Version.vision_id == vision_id, Version.number == number)
            )
            if text is None:
                return None
        snapshot = cache.put((vision_id, number), json.loads(text))
    return snapshot


# --- versions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedVersion:
    """A version as permalinks need it: parsed once, never changing."""

    vision_id: int
    slug: str
    number: int
    published_at: datetime
    notes: str
    content_hash: str
    snapshot: dict[str, Any]
    changelog: list[dict[str, Any]]

    @property
    def elements(self) -> list[dict[str, Any]]:
        return self.snapshot["elements"]

    def element(self, key: str) -> dict[str, Any] | None:
        return next((e for e in self.elements if e["key"] == key), None)


def load_version(slug: str, number: int) -> PublishedVersion | None:
    """Version `number` of the vision `slug`, or None; one query."""
    row = db.session.execute(
        select(Version, Vision.slug)
        .join(Vision, Vision.id == Version.vision_id)
        .where(Vision.slug == slug, Version.number == number)
    ).first()
    if row is None:
        return None
    version, slug = row
    return PublishedVersion(
        vision_id=version.vision_id,
        slug=slug,
        number=version.number,
        published_at=version.published_at,
        notes=version.notes,
        content_hash=version.content_hash,
        snapshot=parsed_snapshot(version.vision_id, version.number, version.snapshot),
        changelog=json.loads(version.changelog),
    )


def load_versions(slug: str, numbers: Sequence[int]) -> dict[int, PublishedVersion]:
    """The versions `numbers` of the vision `slug` that exist, by number; one query.

    Snapshots come from the in-process cache of parsed snapshots when they are there (shared:
    read-only).
    """
    rows = db.session.execute(
        select(
            Version.vision_id,
            Version.number,
            Version.published_at,
            Version.notes,
            Version.content_hash,
            Version.snapshot,
            Version.changelog,
        )
        .join(Vision, Vision.id == Version.vision_id)
        .where(Vision.slug == slug, Version.number.in_(sorted(set(numbers))))
    ).all()
    return {
        row.number: PublishedVersion(
            vision_id=row.vision_id,
            slug=slug,
            number=row.number,
            published_at=row.published_at,
            notes=row.notes,
            content_hash=row.content_hash,
            snapshot=parsed_snapshot(row.vision_id, row.number, row.snapshot),
            changelog=json.loads(row.changelog),
        )
        for row in rows
    }


def latest_snapshot(vision: Vision) -> dict[str, Any] | None:
    """The latest published version's snapshot (cached: no query once parsed), or None."""
    if not vision.latest_version_number:
        return None
    return parsed_snapshot(vision.id, vision.latest_version_number)


def list_versions_options() -> tuple[Any, ...]:
    """Loader options for lists of versions: the snapshot (the big column) only if read."""
    return (defer(Version.snapshot),)


def list_versions(vision: Vision) -> Sequence[Version]:
    """Every version of the vision, newest first, without their snapshots (loaded only if read)."""
    return db.session.scalars(
        select(Version)
        .options(*list_versions_options())
        .where(Version.vision_id == vision.id)
        .order_by(Version.number.desc())
    ).all()


def unpublished_changes(vision: Vision) -> Sequence[DraftChange]:
    """The draft changes that no version has published yet, oldest first."""
    return db.session.scalars(
        select(DraftChange)
        .where(DraftChange.vision_id == vision.id, DraftChange.version_id.is_(None))
        .order_by(DraftChange.id)
    ).all()


def last_pending_change_id(vision: Vision) -> int:
    """The id of the newest draft change waiting to be published (0 when none): a publish form
    carries it so that a draft that moved on after the page was prepared is not published unseen."""
    return (
        db.session.scalar(
            select(DraftChange.id)
            .where(DraftChange.vision_id == vision.id, DraftChange.version_id.is_(None))
            .order_by(DraftChange.id.desc())
            .limit(1)
        )
        or 0
    )


# --- publishing -----------------------------------------------------------------------------------

NOTHING_CHANGED = "Nothing has changed since the latest version, so there is nothing to publish."
NOTES_MAX = 5_000

# Content that makes two versions different for a reader; `text_id` is left out, so a change that
# was undone (the same words in a new text) counts as nothing changed.
CONTENT_FIELDS = ("key", "kind", "number", "label", "title", "body", "parent")


class NotAllowed(Exception):
    """The acting person may not do this (the drafting feature raises the same class)."""


class PublishConflict(ValidationError):
    """Someone published, or changed the draft, after the publish page was prepared."""

    def __init__(self, message: str):
        super().__init__({"form": message})


def same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether two snapshots show a reader the same vision (ignoring number, date and text ids)."""
    if old.get("vision") != new.get("vision"):
        return False
    if len(old["elements"]) != len(new["elements"]):
        return False
    return all(
        all(a.get(name) == b.get(name) for name in CONTENT_FIELDS)
        for a, b in zip(old["elements"], new["elements"])
    )


def clean_notes(notes: str | None) -> str:
    """A version's notes, cleaned (plain text, paragraphs kept), or ValidationError({"notes": ...})."""
    raw = notes or ""
    if has_disguising_characters(raw):
        raise ValidationError(
            {"notes": "Remove the hidden formatting characters (such as right-to-left overrides) from the notes"}
        )
    cleaned = clean_text(raw, multiline=True)
    if len(cleaned) > NOTES_MAX:
        raise ValidationError({"notes": f"The notes must be {NOTES_MAX:,} characters or fewer (they have {len(cleaned):,})"})
    return cleaned


def lock_vision(vision: Vision) -> Vision:
    """Re-read the vision with a row lock (PostgreSQL), so two publishes queue one behind the other."""
    locked = db.session.scalar(
        select(Vision)
        .where(Vision.id == vision.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked


def _pending_change_rows(vision: Vision) -> list[Any]:
    """Unpublished draft changes with their element key and, for accepts, the proposal's author."""
    return db.session.execute(
        select(
            DraftChange.id,
            DraftChange.kind,
            DraftChange.actor_id,
            DraftChange.reason,
            DraftChange.proposal_id,
            Element.key,
            Proposal.author_id,
            Proposal.accepted_with_changes,
        )
        .join(Element, Element.id == DraftChange.element_id)
        .outerjoin(Proposal, Proposal.id == DraftChange.proposal_id)
        .where(DraftChange.vision_id == vision.id, DraftChange.version_id.is_(None))
        .order_by(DraftChange.id)
    ).all()


def _rejections_between(vision: Vision, since: datetime | None, until: datetime) -> list[Any]:
    """Proposals rejected in [since, until): each rejection falls in exactly one version's window."""
    where = [
        Proposal.vision_id == vision.id,
        Proposal.status == ProposalStatus.REJECTED.value,
        Proposal.decided_at < until,
    ]
    if since is not None:
        where.append(Proposal.decided_at >= since)
    return db.session.execute(
        select(
            Proposal.id,
            Element.key,
            Proposal.author_id,
            Proposal.decided_by_id,
            Proposal.decision_reason,
        )
        .join(Element, Element.id == Proposal.element_id)
        .where(*where)
        .order_by(Proposal.decided_at, Proposal.id)
    ).all()


def build_changelog(
    changes: Sequence[Any],
    rejections: Sequence[Any],
    labels: dict[str, str],
) -> list[dict[str, Any]]:
    """The changelog entries of a version (stored as JSON with it; names are looked up on display).

    - ``{"type": "accepted", "proposal_id", "element", "label", "author_id", "actor_id",
      "with_changes", "note"}`` for each accepted proposal;
    - ``{"type": "edit", "change", "element", "label", "actor_id", "reason"}`` for each direct edit
      of the draft (``change``: edit, add, remove, reorder...);
    - ``{"type": "rejected", "proposal_id", "element", "label", "author_id", "actor_id", "reason"}``
      for each proposal rejected since the previous version.

    Imports are not listed (version 1 is "the first published version").
    """
    accepted: list[dict[str, Any]] = []
    edits: list[dict[str, Any]] = []
    for change in changes:
        label = labels.get(change.key, change.key)
        if change.kind == "import":
            continue
        if change.kind == "accept" and change.proposal_id is not None:
            accepted.append(
                {
                    "type": "accepted",
                    "proposal_id": change.proposal_id,
                    "element": change.key,
                    "label": label,
                    "author_id": change.author_id,
                    "actor_id": change.actor_id,
                    "with_changes": bool(change.accepted_with_changes),
                    "note": change.reason or "",
                }
            )
        else:
            edits.append(
                {
                    "type": "edit",
                    "change": change.kind,
                    "element": change.key,
                    "label": label,
                    "actor_id": change.actor_id,
                    "reason": change.reason or "",
                }
            )
    rejected = [
        {
            "type": "rejected",
            "proposal_id": row.id,
            "element": row.key,
            "label": labels.get(row.key, row.key),
            "author_id": row.author_id,
            "actor_id": row.decided_by_id,
            "reason": row.decision_reason or "",
        }
        for row in rejections
    ]
    return accepted + edits + rejected


def changelog_credits(entries: Sequence[dict[str, Any]]) -> list[int]:
    """Who a version credits, in order of first appearance: the authors of accepted proposals, then
    the facilitators who edited the draft directly or accepted a proposal with changes."""
    authors: list[int] = []
    editors: list[int] = []
    for entry in entries:
        if entry.get("type") == "accepted":
            if entry.get("author_id") is not None:
                authors.append(entry["author_id"])
            if entry.get("with_changes") and entry.get("actor_id") is not None:
                editors.append(entry["actor_id"])
        elif entry.get("type") == "edit" and entry.get("actor_id") is not None:
            editors.append(entry["actor_id"])
    return list(dict.fromkeys(authors + editors))


def publish_version(
    vision: Vision,
    *,
    actor: User | None,
    notes: str,
    expected_version: int | None = None,
    expected_change: int | None = None,
) -> Version:
    """Publish the working draft as version n+1: an immutable snapshot with its content hash and an
    automatic changelog; the waiting draft changes now belong to it. One transaction (flushes; the
    caller commits).

    `actor` None is the system (an import, a script); a person must be allowed to publish, or
    NotAllowed is raised. `expected_version` / `expected_change` are what the publish page showed (the latest version
    number and `last_pending_change_id`): if someone published or changed the draft since, raises
    PublishConflict. Raises ValidationError ({"notes": NOTHING_CHANGED}) when the draft shows a
    reader the same vision as the latest version (even if changes were made and undone), and
    PublishConflict if another publish of the same number won the race.
    """
    if actor is not None and not permissions.can_publish(actor, vision):
        raise NotAllowed()
    notes = clean_notes(notes)
    vision = lock_vision(vision)
    latest_number = vision.latest_version_number
    if expected_version is not None and latest_number != expected_version:
        raise PublishConflict(
            f"Version {latest_number} was published while you were preparing this one. "
            "Check the draft again before you publish."
        )
    rows = working_rows(vision, for_update=True)
    changes = _pending_change_rows(vision)
    if expected_change is not None and max((c.id for c in changes), default=0) != expected_change:
        raise PublishConflict(
            "The draft changed while you were preparing to publish it. "
            "Check the changes below, then publish again."
        )
    if not rows:
        raise ValidationError({"notes": "The draft has no elements, so there is nothing to publish."})

    previous = None
    if latest_number:
        previous = db.session.execute(
            select(Version.published_at, Version.snapshot).where(
                Version.vision_id == vision.id, Version.number == latest_number
            )
        ).one()
    number = latest_number + 1
    # Exact in the database (rejections are assigned to versions by it: each falls in exactly one
    # [previous, this) window); the snapshot says it to the second.
    published_at = utcnow()
    snapshot = snapshots.build_snapshot(
        slug=vision.slug,
        title=vision.title,
        summary=vision.summary,
        number=number,
        published_at=published_at,
        rows=rows,
    )
    labels: dict[str, str] = {}
    if previous is not None:
        previous_snapshot = parsed_snapshot(vision.id, latest_number, previous.snapshot)
        if same_content(previous_snapshot, snapshot):
            raise ValidationError({"notes": NOTHING_CHANGED})
        labels.update((e["key"], e["label"]) for e in previous_snapshot["elements"])
    labels.update((e["key"], e["label"]) for e in snapshot["elements"])

    canonical = snapshots.canonical_json(snapshot)
    changelog = build_changelog(
        changes,
        _rejections_between(vision, previous.published_at if previous else None, published_at),
        labels,
    )
    version = Version(
        vision_id=vision.id,
        number=number,
        published_at=published_at,
        published_by_id=actor.id if actor else None,
        notes=notes,
        content_hash=snapshots.content_hash(canonical),
        snapshot=canonical,
        changelog=json.dumps(changelog, ensure_ascii=False, sort_keys=True),
    )
    try:
        with db.session.begin_nested():
            db.session.add(version)
            db.session.flush()
    except IntegrityError:
        raise PublishConflict(
            f"Someone else published version {number} at the same moment. "
            "Check the versions page: your draft may already be published."
        ) from None
    if changes:
        db.session.execute(
            update(DraftChange.__table__)
            .where(DraftChange.__table__.c.id == bindparam("change_id"))
            .values(version_id=version.id),
            [{"change_id": change.id} for change in changes],
        )
        # Changes loaded in this session must not keep a stale version_id.
        for change in db.session.identity_map.values():
            if isinstance(change, DraftChange) and change.version_id is None and change.vision_id == vision.id:
                db.session.expire(change, ["version_id"])
    vision.latest_version_number = number
    record_event(
        "version.published",
        "version",
        version.id,
        actor=actor,
        vision_id=vision.id,
        number=number,
        content_hash=version.content_hash,
        changes=len([c for c in changes if c.kind != "import"]),
        accepted=sum(1 for e in changelog if e["type"] == "accepted"),
        rejected=sum(1 for e in changelog if e["type"] == "rejected"),
    )
    db.session.flush()
    return version
