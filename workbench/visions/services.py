"""State changes and queries for visions, the working draft and published versions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..models import (
    DraftChange,
    DraftEntry,
    Element,
    ElementText,
    User,
    Version,
    Vision,
    db,
    record_event,
    utcnow,
)
from ..validation import ValidationError
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


def working_rows(vision: Vision) -> list[snapshots.TreeRow]:
    """The working draft as tree rows, in one query."""
    parent = db.aliased(Element)
    result = db.session.execute(
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
    return [snapshots.TreeRow(*row) for row in result]


def working_tree(vision: Vision) -> list[dict[str, Any]]:
    """The working draft numbered as it would be published."""
    return snapshots.number_tree(working_rows(vision))


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
        snapshot=json.loads(version.snapshot),
        changelog=json.loads(version.changelog),
    )


def list_versions(vision: Vision) -> Sequence[Version]:
    return db.session.scalars(
        select(Version).where(Version.vision_id == vision.id).order_by(Version.number.desc())
    ).all()


def unpublished_changes(vision: Vision) -> Sequence[DraftChange]:
    return db.session.scalars(
        select(DraftChange)
        .where(DraftChange.vision_id == vision.id, DraftChange.version_id.is_(None))
        .order_by(DraftChange.id)
    ).all()


def publish_version(vision: Vision, *, actor: User | None, notes: str) -> Version:
    """Publish the working draft as version n+1: an immutable snapshot with its content hash.

    Raises ValidationError when nothing changed since the latest version.
    """
    changes = unpublished_changes(vision)
    if not changes:
        raise ValidationError({"notes": "Nothing has changed since the latest version, so there is nothing to publish."})
    number = (
        db.session.scalar(select(func.max(Version.number)).where(Version.vision_id == vision.id)) or 0
    ) + 1
    published_at = utcnow().replace(microsecond=0)
    snapshot = snapshots.build_snapshot(
        slug=vision.slug,
        title=vision.title,
        summary=vision.summary,
        number=number,
        published_at=published_at,
        rows=working_rows(vision),
    )
    canonical = snapshots.canonical_json(snapshot)
    changelog = [
        {"kind": c.kind, "element_id": c.element_id, "reason": c.reason, "actor_id": c.actor_id}
        for c in changes
        if c.kind != "import"
    ]
    version = Version(
        vision_id=vision.id,
        number=number,
        published_at=published_at,
        published_by_id=actor.id if actor else None,
        notes=notes,
        content_hash=snapshots.content_hash(canonical),
        snapshot=canonical,
        changelog=json.dumps(changelog),
    )
    db.session.add(version)
    db.session.flush()
    for change in changes:
        change.version_id = version.id
    vision.latest_version_number = number
    record_event(
        "version.published",
        "version",
        version.id,
        actor=actor,
        vision_id=vision.id,
        number=number,
        content_hash=version.content_hash,
    )
    db.session.flush()
    return version
