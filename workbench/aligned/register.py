"""The public register of aligned work: approved initiatives only (`in_the_register`), never a
contact.

The register page (filters, pages), its open data (CSV and JSON rows), and what the vision's and
the elements' pages show: how many initiatives support each part of the vision, and which. Every
query reads the explicit `PUBLIC_COLUMNS`, which leave `contact` out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from ..exports import iso_time
from ..models import AlignedWork, AlignedWorkElement, DraftEntry, Element, Vision, db, published_by
from ..pagination import PageNumbers
from ..validation import clean_text
from .wording import ORGANISATION_MAX, SELECTABLE_KINDS, STATUSES, ElementChoice, VisionElements, vision_elements

# Made once: SQLAlchemy adapts a new alias's columns afresh on each use (queue_flags._OTHER).
_AMBITION = aliased(Element, name="ambition")

PAGE_SIZE = 20


def in_the_register() -> Any:
    """SQL: the initiative is public: approved in screening, and its submitter did not choose to
    be unpublished (publication.NOT_PUBLISHED: facilitators still see it in screening)."""
    return and_(AlignedWork.state == "approved", published_by(AlignedWork.submitter_id))


@dataclass(frozen=True)
class Initiative:
    """An approved initiative as the public sees it: no contact, ever."""

    id: int
    organisation: str
    title: str
    description: str
    status: str
    link: str
    approved_at: datetime | None
    elements: tuple[ElementChoice, ...] = ()

    @classmethod
    def of(cls, id: int, wording: Any, approved_at: datetime | None, element_ids: Sequence[int], elements: VisionElements) -> Initiative:
        """From its approved wording (organisation, title, description, status, link) and the
        ids of the parts of the vision it supports."""
        return cls(
            id=id,
            organisation=wording.organisation,
            title=wording.title,
            description=wording.description,
            status=wording.status,
            link=wording.link,
            approved_at=approved_at,
            elements=tuple(elements.describe(element_ids)),
        )

    @property
    def status_words(self) -> str:
        return STATUSES.get(self.status, self.status)


# The only columns any public page or export reads: `contact` is deliberately absent.
PUBLIC_COLUMNS = (
    AlignedWork.id,
    AlignedWork.organisation,
    AlignedWork.title,
    AlignedWork.description,
    AlignedWork.status,
    AlignedWork.link,
    AlignedWork.approved_at,
)


@dataclass(frozen=True)
class RegisterFilters:
    """What the register is narrowed to: a part of the vision (with, for an ambition, its
    objectives and enabling conditions), a status, part of an organisation's name."""

    element: ElementChoice | None = None
    status: str | None = None
    organisation: str = ""

    @property
    def active(self) -> bool:
        return bool(self.element or self.status or self.organisation)

    def as_args(self) -> dict[str, str]:
        args: dict[str, str] = {}
        if self.element:
            args["element"] = self.element.key
        if self.status:
            args["status"] = self.status
        if self.organisation:
            args["organisation"] = self.organisation
        return args


def parse_register_filters(args: Any, elements: VisionElements) -> tuple[RegisterFilters, dict[str, str]]:
    """Read `element` (a key), `status` and `organisation` from query arguments.

    Unknown values are not applied; they come back as per-field messages. Returns (filters, errors).
    """
    errors: dict[str, str] = {}
    element = None
    key = (args.get("element") or "").strip()
    if key:
        element = elements.by_key.get(key)
        if element is None or element.kind not in SELECTABLE_KINDS:
            errors["element"] = "There is no such part of this vision; showing initiatives for every part"
            element = None
    status = (args.get("status") or "").strip() or None
    if status is not None and status not in STATUSES:
        errors["status"] = "Choose planned, current or completed; showing every status"
        status = None
    organisation = clean_text(args.get("organisation") or "", multiline=False)[:ORGANISATION_MAX]
    return RegisterFilters(element=element, status=status, organisation=organisation), errors


@dataclass
class Page(PageNumbers):
    """One page (PAGE_SIZE) of a list of initiatives: `items`, and where it sits in all `total`."""

    items: list[Any]
    total: int
    page: int
    per_page: int = PAGE_SIZE

    @property
    def exists(self) -> bool:
        """Page 1 always exists (it may be empty); later pages only when they hold items."""
        return self.page == 1 or self.page <= self.pages


def _register_conditions(vision: Vision, filters: RegisterFilters, elements: VisionElements) -> list[Any]:
    conditions = [AlignedWork.vision_id == vision.id, in_the_register()]
    if filters.element is not None:
        conditions.append(
            AlignedWork.id.in_(
                select(AlignedWorkElement.aligned_work_id).where(
                    AlignedWorkElement.element_id.in_(elements.family_ids(filters.element))
                )
            )
        )
    if filters.status:
        conditions.append(AlignedWork.status == filters.status)
    if filters.organisation:
        conditions.append(AlignedWork.organisation.icontains(filters.organisation, autoescape=True))
    return conditions


def _with_elements(rows: Sequence[Any], elements: VisionElements) -> list[Initiative]:
    ids = [row.id for row in rows]
    links: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for work_id, element_id in db.session.execute(
            select(AlignedWorkElement.aligned_work_id, AlignedWorkElement.element_id).where(
                AlignedWorkElement.aligned_work_id.in_(ids)
            )
        ):
            links[work_id].append(element_id)
    return [Initiative.of(row.id, row, row.approved_at, links[row.id], elements) for row in rows]


def register_page(vision: Vision, filters: RegisterFilters, elements: VisionElements, page: int = 1) -> Page:
    """One page (PAGE_SIZE) of approved initiatives, organisation A to Z, with the number of all that
    match; two queries whatever the data. A page past the end comes back empty (`exists` is False)."""
    conditions = _register_conditions(vision, filters, elements)
    order = (AlignedWork.organisation, AlignedWork.title, AlignedWork.id)
    # One pass over the matching rows, on their narrow sort keys only (ix_aligned_work_register
    # covers them), numbers them all and picks the page; the page's 20 rows are then fetched whole.
    # Counting in a separate query scanned everything twice.
    page_ids = (
        select(AlignedWork.id.label("id"), func.count().over().label("total"))
        .where(*conditions)
        .order_by(*order)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).subquery()
    rows = db.session.execute(
        select(*PUBLIC_COLUMNS, page_ids.c.total).join(page_ids, page_ids.c.id == AlignedWork.id).order_by(*order)
    ).all()
    total = rows[0].total if rows else 0
    return Page(items=_with_elements(rows, elements), total=total, page=page)


def approved_initiatives(vision: Vision, elements: VisionElements | None = None) -> list[Initiative]:
    """Every approved initiative of the vision, in order of id, for the open data; two queries."""
    elements = elements or vision_elements(vision)
    rows = db.session.execute(
        select(*PUBLIC_COLUMNS)
        .where(AlignedWork.vision_id == vision.id, in_the_register())
        .order_by(AlignedWork.id)
    ).all()
    links: dict[int, list[int]] = {row.id: [] for row in rows}
    for work_id, element_id in db.session.execute(
        select(AlignedWorkElement.aligned_work_id, AlignedWorkElement.element_id)
        .join(AlignedWork, AlignedWork.id == AlignedWorkElement.aligned_work_id)
        .where(AlignedWork.vision_id == vision.id, in_the_register())
    ):
        links[work_id].append(element_id)
    return [Initiative.of(row.id, row, row.approved_at, links[row.id], elements) for row in rows]


# --- counts and element pages -----------------------------------------------------------------------


def initiative_counts(vision: Vision) -> dict[int, int]:
    """Approved initiatives per element id; an ambition counts the distinct initiatives that support
    it or any of its objectives and enabling conditions. Elements without any are left out. Two
    aggregate queries, whatever the data."""
    approved = and_(
        AlignedWork.id == AlignedWorkElement.aligned_work_id,
        AlignedWork.vision_id == vision.id,
        in_the_register(),
    )
    counts: dict[int, int] = dict(
        db.session.execute(
            select(AlignedWorkElement.element_id, func.count(func.distinct(AlignedWorkElement.aligned_work_id)))
            .select_from(AlignedWorkElement)
            .join(AlignedWork, approved)
            .group_by(AlignedWorkElement.element_id)
        ).all()
    )
    ambition = _AMBITION
    ambition_id = func.coalesce(DraftEntry.parent_element_id, AlignedWorkElement.element_id)
    rollup = db.session.execute(
        select(ambition_id, func.count(func.distinct(AlignedWorkElement.aligned_work_id)))
        .select_from(AlignedWorkElement)
        .join(AlignedWork, approved)
        .join(DraftEntry, DraftEntry.element_id == AlignedWorkElement.element_id)
        .join(ambition, ambition.id == ambition_id)
        .where(ambition.kind == "ambition")
        .group_by(ambition_id)
    ).all()
    counts.update(dict(rollup))
    return counts


def initiative_counts_by_key(vision: Vision) -> dict[str, int]:
    """`initiative_counts` keyed by element key, for pages rendered from a version's snapshot."""
    counts = initiative_counts(vision)
    if not counts:
        return {}
    keys = dict(
        db.session.execute(select(Element.id, Element.key).where(Element.id.in_(list(counts)))).all()
    )
    return {keys[i]: n for i, n in counts.items() if i in keys}


def _element_family(element: Element):
    """Ids of the element and, for an ambition, of its objectives and conditions (a subquery)."""
    if element.kind != "ambition":
        return select(Element.id).where(Element.id == element.id)
    return select(DraftEntry.element_id).where(DraftEntry.parent_element_id == element.id).union(
        select(Element.id).where(Element.id == element.id)
    )


def _supporting(vision: Vision, element: Element):
    return and_(
        AlignedWork.vision_id == vision.id,
        in_the_register(),
        AlignedWork.id.in_(
            select(AlignedWorkElement.aligned_work_id).where(AlignedWorkElement.element_id.in_(_element_family(element)))
        ),
    )


def initiatives_for_element(vision: Vision, element: Element, *, limit: int | None = None) -> list[Initiative]:
    """Approved initiatives that support the element (for an ambition: it or any of its objectives
    and enabling conditions), organisation A to Z; one query. Initiatives carry no elements here."""
    query = (
        select(*PUBLIC_COLUMNS)
        .where(_supporting(vision, element))
        .order_by(AlignedWork.organisation, AlignedWork.title, AlignedWork.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [Initiative(*row) for row in db.session.execute(query).all()]


@dataclass(frozen=True)
class ElementInitiatives:
    """What `templates/aligned/_element_initiatives.html` shows on an element's page."""

    vision_slug: str
    element_key: str
    element_kind: str
    count: int
    initiatives: list[Initiative]

    @property
    def more(self) -> bool:
        return self.count > len(self.initiatives)


def element_initiatives(vision: Vision, element: Element, *, limit: int = 5) -> ElementInitiatives:
    """The count and the first `limit` initiatives supporting an element; two queries."""
    count = db.session.scalar(select(func.count(AlignedWork.id)).where(_supporting(vision, element))) or 0
    initiatives = initiatives_for_element(vision, element, limit=limit) if count else []
    return ElementInitiatives(vision.slug, element.key, element.kind, count, initiatives)


# --- open data ----------------------------------------------------------------------------------------

# The CSV file's columns, in order (documented on the "about the data" page).
CSV_COLUMNS = (
    "id",
    "organisation",
    "title",
    "description",
    "status",
    "link",
    "element_keys",
    "element_labels",
    "approved_at",
    "permalink",
)


def open_data(vision: Vision, permalink: Callable[[int], str]) -> list[dict[str, Any]]:
    """The register as open data (the JSON file's `initiatives`): the documented fields only, never
    a contact. `permalink(id)` is the initiative's page as a full URL."""
    return [
        {
            "id": initiative.id,
            "organisation": initiative.organisation,
            "title": initiative.title,
            "description": initiative.description,
            "status": initiative.status,
            "link": initiative.link,
            "elements": [
                {"key": e.key, "kind": e.kind, "label": e.label, "title": e.title} for e in initiative.elements
            ],
            "approved_at": iso_time(initiative.approved_at),
            "permalink": permalink(initiative.id),
        }
        for initiative in approved_initiatives(vision)
    ]


def csv_rows(rows: Iterable[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
    """The open data's rows as CSV_COLUMNS: the elements joined by "; "."""
    for row in rows:
        element_keys = "; ".join(e["key"] for e in row["elements"])
        element_labels = "; ".join(f"{e['label']}: {e['title']}" if e["title"] else e["label"] for e in row["elements"])
        yield (
            row["id"],
            row["organisation"],
            row["title"],
            row["description"],
            row["status"],
            row["link"],
            element_keys,
            element_labels,
            row["approved_at"],
            row["permalink"],
        )
