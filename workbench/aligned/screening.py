"""Where each initiative stands in screening, and the lists and panels that show it.

What the submitter sees follows from `state`, `pending` and `screening_reason`:

| state    | pending | screening_reason | in words                                   |
| -------- | ------- | ---------------- | ------------------------------------------ |
| pending  | set     | ""               | Waiting for screening                      |
| rejected | set     | the reason       | Not published: <reason>                    |
| approved | None    | ""               | Published                                  |
| approved | set     | ""               | Changes waiting for screening              |
| approved | set     | the reason       | Published; changes not accepted: <reason>  |

So "waiting for a facilitator" is exactly: `pending` is set and `screening_reason` is empty. Only
the submitter and facilitators ever see a wording under screening, or a contact. Queries only: the
state changes are in `services.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Text, and_, cast, func, select

from .. import permissions
from ..diffcache import diff
from ..diffing import DiffViews
from ..models import AlignedWork, AlignedWorkElement, User, Vision, db
from .register import PAGE_SIZE, Initiative, Page
from .wording import ElementChoice, VisionElements, Wording, vision_elements

# The wording's fields shown as word diffs when they change, and the others, named in words.
TEXT_FIELDS = ("organisation", "title", "description")
OTHER_FIELDS = {
    "status": "status",
    "link": "web page",
    "contact": "contact",
    "element_ids": "the parts of the vision it supports",
}


# --- screening state --------------------------------------------------------------------------------


def is_waiting(work: AlignedWork) -> bool:
    """A wording waits for a facilitator's decision."""
    return work.pending is not None and not work.screening_reason


@dataclass(frozen=True)
class ScreeningState:
    """Where an initiative stands in screening, for the submitter's tag."""

    code: str  # waiting, published, changes-waiting, not-published, changes-not-accepted
    words: str
    tag: str  # the app-status modifier that colours the tag (the words carry the meaning)


def screening_state(work: AlignedWork) -> ScreeningState:
    """Where the initiative stands, in the submitter's words."""
    if work.state == "approved":
        if work.pending is None:
            return ScreeningState("published", "Published", "published")
        if not work.screening_reason:
            return ScreeningState("changes-waiting", "Changes waiting for screening", "open")
        return ScreeningState(
            "changes-not-accepted", f"Published; changes not accepted: {work.screening_reason}", "stale"
        )
    if work.state == "rejected":
        return ScreeningState("not-published", f"Not published: {work.screening_reason}", "rejected")
    return ScreeningState("waiting", "Waiting for screening", "open")


def waiting_clause():
    """SQL: the initiative has a wording waiting for a decision (`is_waiting`)."""
    # A cleared `pending` is stored as JSON null, not SQL NULL: compare its text on both databases.
    return and_(
        AlignedWork.pending.isnot(None),
        cast(AlignedWork.pending, Text) != "null",
        AlignedWork.screening_reason == "",
    )


def approved_element_ids(work: AlignedWork) -> list[int]:
    """Ids of the elements the approved wording supports, in order; one query."""
    return list(
        db.session.scalars(
            select(AlignedWorkElement.element_id)
            .where(AlignedWorkElement.aligned_work_id == work.id)
            .order_by(AlignedWorkElement.element_id)
        )
    )


def approved_wording(work: AlignedWork) -> Wording | None:
    """The wording that is public (None before the first approval); one query."""
    if work.state != "approved":
        return None
    return Wording(
        organisation=work.organisation,
        title=work.title,
        description=work.description,
        status=work.status,
        link=work.link,
        contact=work.contact,
        element_ids=tuple(approved_element_ids(work)),
    )


def approved_wordings(works: Sequence[AlignedWork]) -> dict[int, Wording]:
    """Approved wordings of several initiatives by id (the approved ones only); one query."""
    approved = [work for work in works if work.state == "approved"]
    links: dict[int, list[int]] = {work.id: [] for work in approved}
    if approved:
        for work_id, element_id in db.session.execute(
            select(AlignedWorkElement.aligned_work_id, AlignedWorkElement.element_id).where(
                AlignedWorkElement.aligned_work_id.in_(list(links))
            )
        ):
            links[work_id].append(element_id)
    return {
        work.id: Wording(
            organisation=work.organisation,
            title=work.title,
            description=work.description,
            status=work.status,
            link=work.link,
            contact=work.contact,
            element_ids=tuple(sorted(links[work.id])),
        )
        for work in approved
    }


def latest_wording(work: AlignedWork) -> Wording:
    """What the submitter last sent: the pending wording if any, else the approved one."""
    if work.pending is not None:
        return Wording.from_pending(work.pending)
    wording = approved_wording(work)
    assert wording is not None  # an initiative without pending wording has been approved
    return wording


def load_for_decision(work_id: int) -> AlignedWork | None:
    """The initiative, locked for the rest of the transaction on PostgreSQL (SQLite: BEGIN IMMEDIATE)."""
    return db.session.scalar(select(AlignedWork).where(AlignedWork.id == work_id).with_for_update())


# --- the screening queue and the submitter's own list -------------------------------------------------


def screening_queue(vision: Vision, page: int = 1) -> Page:
    """Initiatives with a wording waiting for a decision, oldest submission first: (work, submitter)."""
    where = and_(AlignedWork.vision_id == vision.id, waiting_clause())
    total = db.session.scalar(select(func.count(AlignedWork.id)).where(where)) or 0
    rows = db.session.execute(
        select(AlignedWork, User)
        .join(User, User.id == AlignedWork.submitter_id)
        .where(where)
        .order_by(AlignedWork.updated_at, AlignedWork.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return Page(items=[tuple(row) for row in rows], total=total, page=page)


def waiting_count(vision: Vision) -> int:
    """How many initiatives of the vision wait for a decision."""
    return db.session.scalar(
        select(func.count(AlignedWork.id)).where(AlignedWork.vision_id == vision.id, waiting_clause())
    ) or 0


def initiatives_of(user: User, page: int = 1) -> Page:
    """The user's own initiatives in every vision, most recently changed first: (work, vision) pairs."""
    where = AlignedWork.submitter_id == user.id
    total = db.session.scalar(select(func.count(AlignedWork.id)).where(where)) or 0
    rows = db.session.execute(
        select(AlignedWork, Vision)
        .join(Vision, Vision.id == AlignedWork.vision_id)
        .where(where)
        .order_by(AlignedWork.updated_at.desc(), AlignedWork.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return Page(items=[tuple(row) for row in rows], total=total, page=page)


# --- what the screening queue and the initiative's page show ----------------------------------------


@dataclass(frozen=True)
class Submission:
    """An initiative and the wording it has under screening, as the screening queue and (for its
    submitter and facilitators only) the initiative's page show it to `viewer`; what
    templates/aligned/_screening_item.html reads."""

    work: AlignedWork
    submitter: User
    published: Wording | None  # the approved wording (None before the first approval)
    pending: Wording | None  # the wording sent for screening (None when nothing was sent since)
    pending_elements: list[ElementChoice]
    is_submitter: bool  # the viewer sent it
    can_decide: bool  # the viewer may approve or reject it now
    own_submission: bool  # a facilitator looking at what they sent themselves
    decision_errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def state(self) -> ScreeningState:
        return screening_state(self.work)

    @property
    def waiting(self) -> bool:
        return is_waiting(self.work)

    @property
    def submitted_at(self) -> str:
        return (self.work.pending or {}).get("submitted_at", "")

    @property
    def published_contact(self) -> str:
        return self.published.contact if self.published else ""

    @cached_property
    def changes(self) -> dict[str, DiffViews]:
        """Word diffs of the text fields that the waiting wording changes in the published one."""
        before, after = self.published, self.pending
        if before is None or after is None:
            return {}
        return {
            name: DiffViews(diff(getattr(before, name), getattr(after, name)))
            for name in TEXT_FIELDS
            if getattr(before, name) != getattr(after, name)
        }

    @property
    def other_changes(self) -> list[str]:
        """The fields other than text that the waiting wording changes, in words."""
        before, after = self.published, self.pending
        if before is None or after is None:
            return []
        return [words for name, words in OTHER_FIELDS.items() if getattr(before, name) != getattr(after, name)]


def submission(
    work: AlignedWork,
    viewer: Any,
    *,
    submitter: User,
    published: Wording | None,
    elements: VisionElements,
    decision_errors: dict[str, list[str]] | None = None,
) -> Submission:
    """`work` as `viewer` sees it under screening; `published` is its approved wording."""
    pending = Wording.from_pending(work.pending) if work.pending is not None else None
    is_submitter = permissions.can_edit_aligned_work(viewer, work)
    return Submission(
        work=work,
        submitter=submitter,
        published=published,
        pending=pending,
        pending_elements=elements.describe(pending.element_ids) if pending else [],
        is_submitter=is_submitter,
        can_decide=is_waiting(work) and permissions.can_decide_aligned_work(viewer, work),
        own_submission=permissions.can_screen_aligned_work(viewer) and is_submitter,
        decision_errors=decision_errors or {},
    )


def queue_submissions(vision: Vision, queue: Page, viewer: Any) -> list[Submission]:
    """The screening queue's page as `viewer` (a facilitator) sees it; three queries."""
    elements = vision_elements(vision)
    published = approved_wordings([work for work, _submitter in queue.items])
    return [
        submission(work, viewer, submitter=submitter, published=published.get(work.id), elements=elements)
        for work, submitter in queue.items
    ]


def initiative_page(
    work: AlignedWork, viewer: Any, decision_errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """What the initiative's page shows `viewer`: `initiative`, as published (None before its first
    approval), and `private`, the Submission, for its submitter and facilitators only (None for
    everyone else: they never see a wording under screening or a contact)."""
    vision = db.session.get(Vision, work.vision_id)
    elements = vision_elements(vision)
    published = approved_wording(work)
    initiative = None
    if published is not None:
        initiative = Initiative.of(work.id, published, work.approved_at, published.element_ids, elements)
    private = None
    if permissions.can_edit_aligned_work(viewer, work) or permissions.can_screen_aligned_work(viewer):
        private = submission(
            work,
            viewer,
            submitter=db.session.get(User, work.submitter_id),
            published=published,
            elements=elements,
            decision_errors=decision_errors,
        )
    return {"vision": vision, "work_id": work.id, "initiative": initiative, "private": private}
