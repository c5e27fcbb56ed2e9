"""The working draft as it stands: its entries, its state against the latest version, and the
changes waiting to be published. Queries only: nothing here writes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, joinedload

from ..caching import app_cache
from ..exceptions import NotFound
from ..history import services as history
from ..history.documents import DocumentDiff
from ..models import DraftChange, DraftEntry, Element, Proposal, ProposalStatus, User, Vision, db
from ..publication import A_FORMER_PARTICIPANT, name_shown
from ..visions import services as visions
from ..visions.snapshots import number_tree

CHANGES_PER_PAGE = 50
# Aliases built once (building them per query costs more than the query itself).
_PARENT = aliased(Element, name="parent_element")
_ACTOR = aliased(User, name="actor")
_AUTHOR = aliased(User, name="proposal_author")


# --- the draft's entries --------------------------------------------------------------------------


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


def entry_of(vision: Vision, key: str) -> DraftEntry:
    """The element's place in the working draft (removed or not); raises NotFound when the vision
    has no such element."""
    entry = find_entry(vision, key)
    if entry is None:
        raise NotFound()
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
    """How many open proposals would change the element (removing it closes them)."""
    return db.session.scalar(
        select(func.count(Proposal.id)).where(
            Proposal.element_id == entry.element_id, Proposal.status == ProposalStatus.OPEN.value
        )
    ) or 0


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


def label_in_draft(vision: Vision, key: str) -> str:
    """The element's label as the draft numbers it now ("Objective 2.3"), or its key."""
    return next((e["label"] for e in visions.working_tree(vision) if e["key"] == key), key)


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
            actor.publish_as.label("actor_publish_as"),
            author.display_name.label("author_name"),
            author.is_deleted.label("author_deleted"),
            author.publish_as.label("author_publish_as"),
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

    def name(display: str | None, deleted: bool | None, publish_as: str | None, missing: str) -> str:
        if display is None:
            return missing
        return name_shown(display, is_deleted=bool(deleted), publish_as=publish_as)


    changes = [
        PendingChange(
            id=row.id,
            kind=row.kind,
            element=row.key,
            element_kind=row.element_kind,
            # A hidden proposal's accept note may quote it: hidden content leaves every public page.
            # (A proposal its author chose not to publish is in the vision once accepted: its note is
            # part of the public record, as in the published changelog, with the author unnamed.)
            reason="" if row.hidden_at is not None else row.reason,
            created_at=row.created_at,
            actor=name(row.actor_name, row.actor_deleted, row.actor_publish_as, "the system"),
            proposal_id=row.proposal_id,
            proposal_author=name(row.author_name, row.author_deleted, row.author_publish_as, A_FORMER_PARTICIPANT)
            if row.proposal_id
            else None,
            proposal_hidden=row.hidden_at is not None,
        )
        for row in rows
    ]
    return ChangesPage(changes=changes, page=page, pages=pages, total=total)
