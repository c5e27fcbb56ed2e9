"""State changes and queries for visions: their elements, the working draft's rows, published versions.

Published versions never change, so their parsed snapshots are kept in-process (`parsed_snapshot`,
per app, keyed by vision id and number), each checked against its hashes and signature as it is
first read (`verification.check_version`: an altered version raises VersionAltered and is never
served). Publishing itself lives in `drafting/publishing.py`, and importing a vision file in
`visions/importer.py`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import defer

from ..caching import app_cache
from ..models import DraftChange, DraftEntry, Element, ElementText, User, Version, Vision, db
from . import snapshots, verification


# --- visions and their elements ------------------------------------------------------------------


def list_visions() -> Sequence[Vision]:
    """Every vision, by title."""
    return db.session.scalars(select(Vision).order_by(Vision.title)).all()


def find_element(slug: str, key: str) -> tuple[Element, Vision] | None:
    """The element `key` of the vision `slug` and the vision, in one query; None if either is unknown."""
    row = db.session.execute(
        select(Element, Vision)
        .join(Vision, Vision.id == Element.vision_id)
        .where(Vision.slug == slug, Element.key == key)
    ).first()
    return None if row is None else (row[0], row[1])


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


# --- the working draft ----------------------------------------------------------------------------

_PARENT = db.aliased(Element, name="parent_element")


def _draft_entries(*more: Any) -> Any:
    """SELECT the columns of a `snapshots.TreeRow` (then `more`) for draft entries with their texts."""
    return (
        select(
            Element.key,
            Element.kind,
            _PARENT.key,
            DraftEntry.position,
            ElementText.title,
            ElementText.body,
            ElementText.id,
            *more,
        )
        .join(DraftEntry, DraftEntry.element_id == Element.id)
        .join(ElementText, ElementText.id == DraftEntry.text_id)
        .outerjoin(_PARENT, _PARENT.id == DraftEntry.parent_element_id)
    )


def working_rows(vision: Vision, *, for_update: bool = False) -> list[snapshots.TreeRow]:
    """The working draft as tree rows, in one query.

    `for_update` locks the draft entries (PostgreSQL; SQLite's write transactions are exclusive
    already) so that an accept cannot slip between reading the draft and publishing it.
    """
    query = _draft_entries().where(DraftEntry.vision_id == vision.id, DraftEntry.is_removed.is_(False))
    if for_update:
        query = query.with_for_update(of=DraftEntry)
    return [snapshots.TreeRow(*row) for row in db.session.execute(query)]


def working_tree(vision: Vision) -> list[dict[str, Any]]:
    """The working draft numbered as it would be published."""
    return snapshots.number_tree(working_rows(vision))


# --- removed elements: their last label ---------------------------------------------------------


@dataclass(frozen=True)
class RemovedElement:
    """An element taken out of the working draft, named as readers last saw it."""

    key: str
    last_label: str  # "Objective 1.1": its label in the last version that held it (or in the draft)
    removed_in: int | None  # the version that published the removal; None while it waits in the draft
    ever_published: bool

    @property
    def label(self) -> str:
        """"Objective 1.1 (removed in version 3)", or "(removed from the working draft)" while the
        removal waits to be published, or "(removed before it was published)"."""
        if self.removed_in is not None and self.ever_published:
            return f"{self.last_label} (removed in version {self.removed_in})"
        if self.ever_published:
            return f"{self.last_label} (removed from the working draft)"
        return f"{self.last_label} (removed before it was published)"

    def refusal(self, what: str) -> str:
        """Why the element takes no new `what` ("proposals", "reflections"), in words."""
        if self.removed_in is not None and self.ever_published:
            when = f"was removed from the vision in version {self.removed_in}"
        else:
            when = "has been removed from the working draft"
        return (
            f"{self.last_label} {when}, so it takes no new {what}. "
            "You can still read what people proposed and reflected on it."
        )


def removed_elements(vision: Vision, keys: Iterable[str]) -> dict[str, RemovedElement]:
    """The elements among `keys` that were removed from the working draft, by key; others are left out.

    At most three queries whatever the number of keys: the removed entries; the snapshots of the
    versions they were last in (unless parsed in this process already); the working draft, only for
    an element removed before it was ever published (numbered where it stood). None for no keys.
    """
    wanted = set(keys)
    if not wanted:
        return {}
    removed_rows = db.session.execute(
        _draft_entries(Version.number)
        # The removal's change row says which version published it (none while it waits).
        .outerjoin(DraftChange, (DraftChange.element_id == Element.id) & (DraftChange.kind == "remove"))
        .outerjoin(Version, Version.id == DraftChange.version_id)
        .where(DraftEntry.vision_id == vision.id, DraftEntry.is_removed.is_(True))
    ).all()
    rows = {row[0]: (snapshots.TreeRow(*row[:7]), row[7]) for row in removed_rows}
    found = [key for key in wanted if key in rows]
    if not found:
        return {}
    latest = vision.latest_version_number or 0
    # The version last holding it: the one before its removal was published, else the latest.
    holding = {key: (rows[key][1] - 1 if rows[key][1] else latest) for key in found}
    versions = snapshots_of(vision.id, {n for n in holding.values() if n > 0})
    draft_tree: list[snapshots.TreeRow] | None = None
    result = {}
    for key in found:
        snapshot = versions.get(holding[key])
        element = next((e for e in snapshot["elements"] if e["key"] == key), None) if snapshot else None
        if element is not None:
            label = element["label"]
        else:  # never published: number it where it stood in today's draft
            if draft_tree is None:
                draft_tree = working_rows(vision)
            chain = _with_removed_ancestors(key, rows)
            label = next(
                (e["label"] for e in snapshots.number_tree(draft_tree + chain) if e["key"] == key),
                snapshots.KIND_NAMES[rows[key][0].kind],
            )
        result[key] = RemovedElement(key, label, rows[key][1], element is not None)
    return result


def _with_removed_ancestors(key: str, rows: dict[str, tuple[snapshots.TreeRow, int | None]]) -> list[snapshots.TreeRow]:
    chain = []
    while key in rows and len(chain) < 10:
        row = rows[key][0]
        chain.append(row)
        key = row.parent  # type: ignore[assignment]
    return chain


def element_labels(
    vision: Vision, keys: Iterable[str], tree: list[dict[str, Any]] | None = None
) -> dict[str, str]:
    """Each key's label in words: its number in the working draft ("Objective 2.3"); for an element
    removed from the draft, its last label and when it went ("Objective 1.1 (removed in version 3)");
    an unknown key stays as it is.

    Give `tree` (`working_tree(vision)`) when you have it. Queries: the draft (without `tree`),
    then the two of `removed_elements` only when some key is not in the draft.
    """
    keys = list(keys)
    labels = {row["key"]: row["label"] for row in (tree if tree is not None else working_tree(vision))}
    missing = [key for key in keys if key not in labels]
    removed = removed_elements(vision, missing)
    return {key: labels.get(key) or (removed[key].label if key in removed else key) for key in keys}


def element_label(vision: Vision, key: str, tree: list[dict[str, Any]] | None = None) -> str:
    """One element's label, as `element_labels` gives it."""
    return element_labels(vision, [key], tree)[key]


def element_removal(vision: Vision, key: str) -> RemovedElement | None:
    """The element's removal from the working draft, or None while it is in the draft (one to three queries)."""
    return removed_elements(vision, [key]).get(key)


# --- in-process caches of immutable things (workbench/caching.py) -------------------------------


def snapshot_cache() -> Any:
    """The parsed snapshots, by (vision id, version number)."""
    return app_cache("snapshot", 24)


def checked_snapshot_cache() -> Any:
    """The parsed snapshots checked against their hashes and signature (the same objects as in
    `snapshot_cache`, which may also hold some parsed unchecked from a caller's own query)."""
    return app_cache("checked_snapshot", 24)


def _checked(vision_id: int, number: int, text: str, seal: verification.Seal) -> dict[str, Any]:
    snapshot = verification.check_version(text, seal)
    snapshot_cache().put((vision_id, number), snapshot)
    return checked_snapshot_cache().put((vision_id, number), snapshot)


def _seal_query(vision_id: int) -> Any:
    return (
        select(Version.snapshot, *verification.seal_columns())
        .join(Vision, Vision.id == Version.vision_id)
        .where(Version.vision_id == vision_id)
    )


def parsed_snapshot(
    vision_id: int, number: int, text: str | None = None, seal: verification.Seal | None = None
) -> dict[str, Any] | None:
    """Version `number`'s snapshot as a dict, parsed and checked once per process. Treat it as read-only.

    Give `text` (the stored canonical JSON) and its `seal` when you have them; otherwise both are
    read (one query). Returns None when there is no such version; raises VersionAltered when the
    stored version does not match its hashes or signature. Given `text` alone, the snapshot is
    parsed without being checked (and kept apart from the checked ones).
    """
    checked = checked_snapshot_cache().get((vision_id, number))
    if checked is not None:
        return checked
    if seal is None and text is not None:
        cache = snapshot_cache()
        snapshot = cache.get((vision_id, number))
        return snapshot if snapshot is not None else cache.put((vision_id, number), json.loads(text))
    if text is None or seal is None:
        row = db.session.execute(_seal_query(vision_id).where(Version.number == number)).first()
        if row is None:
            return None
        text, seal = row.snapshot, verification.Seal.of(row)
    return _checked(vision_id, number, text, seal)


def snapshots_of(vision_id: int, numbers: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The parsed snapshots of the versions `numbers` that exist, by number: one query for those not
    checked in this process yet, none when all are. Treat them as read-only; raises VersionAltered
    when one does not match its hashes or signature."""
    cache = checked_snapshot_cache()
    found: dict[int, dict[str, Any]] = {}
    missing = []
    for number in set(numbers):
        snapshot = cache.get((vision_id, number))
        if snapshot is None:
            missing.append(number)
        else:
            found[number] = snapshot
    if missing:
        for row in db.session.execute(_seal_query(vision_id).where(Version.number.in_(missing))):
            found[row.number] = _checked(vision_id, row.number, row.snapshot, verification.Seal.of(row))
    return found


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
    previous_hash: str | None = None
    signature: str | None = None
    signing_key: str | None = None

    def document(self, permalink: str) -> dict[str, Any]:
        """The version as open data (/v/<n>.json), with what proves it (verification.py)."""
        return verification.public_document(
            self.snapshot,
            notes=self.notes,
            content_hash=self.content_hash,
            previous_hash=self.previous_hash,
            signature=self.signature,
            signing_key=self.signing_key,
            permalink=permalink,
        )

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
        snapshot=parsed_snapshot(version.vision_id, version.number, version.snapshot, verification.Seal.of(version, slug)),
        changelog=json.loads(version.changelog),
        previous_hash=version.previous_hash,
        signature=version.signature,
        signing_key=version.signing_key,
    )


def load_versions(slug: str, numbers: Sequence[int]) -> dict[int, PublishedVersion]:
    """The versions `numbers` of the vision `slug` that exist, by number; one query.

    Snapshots come from the in-process cache of parsed snapshots when they are there (shared:
    read-only).
    """
    rows = db.session.execute(
        select(
            Version.vision_id,
            Version.published_at,
            Version.snapshot,
            Version.changelog,
            *verification.seal_columns(),
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
            snapshot=parsed_snapshot(row.vision_id, row.number, row.snapshot, verification.Seal.of(row)),
            changelog=json.loads(row.changelog),
            previous_hash=row.previous_hash,
            signature=row.signature,
            signing_key=row.signing_key,
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


# --- locking --------------------------------------------------------------------------------------


def lock_vision(vision: Vision) -> Vision:
    """Re-read the vision with a row lock (PostgreSQL), so that two changes of its draft (two
    publishes, two additions) queue one behind the other."""
    locked = db.session.scalar(
        select(Vision)
        .where(Vision.id == vision.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked

