"""Reading for facilitators: open reports grouped by what they are about, and hidden content.

A fixed number of queries per page, however many reports there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload

from ..models import Comment, Proposal, Report, User, db
from ..pagination import PageNumbers

GROUPS_PER_PAGE = 20
REASONS_SHOWN = 5


@dataclass
class ReasonGiven:
    reporter: str
    reason: str
    created_at: datetime


@dataclass
class ReportedItem:
    """One comment, reflection or proposal with its open reports."""

    subject_type: str
    subject_id: int
    reports: int
    reporters: int
    first_reported: datetime
    last_reported: datetime
    reasons: list[ReasonGiven] = field(default_factory=list)
    subject: Comment | Proposal | None = None

    @property
    def kind(self) -> str:
        """"comment", "reply", "reflection" or "proposal", in words."""
        if isinstance(self.subject, Comment):
            what = "reflection" if self.subject.proposal_id is None else "comment"
            return f"reply ({what})" if self.subject.parent_id is not None else what
        return self.subject_type


@dataclass
class ModerationPage(PageNumbers):
    items: list[ReportedItem]
    total: int
    page: int
    per_page: int = GROUPS_PER_PAGE


def _subjects(pairs: list[tuple[str, int]]) -> dict[tuple[str, int], Comment | Proposal]:
    """The comments and proposals named, with their authors (and a proposal's element): two queries at most."""
    found: dict[tuple[str, int], Comment | Proposal] = {}
    comment_ids = [i for t, i in pairs if t == "comment"]
    proposal_ids = [i for t, i in pairs if t == "proposal"]
    if comment_ids:
        for comment in db.session.scalars(
            select(Comment).options(joinedload(Comment.author)).where(Comment.id.in_(comment_ids))
        ):
            found[("comment", comment.id)] = comment
    if proposal_ids:
        for proposal in db.session.scalars(
            select(Proposal)
            .options(joinedload(Proposal.author), joinedload(Proposal.element))
            .where(Proposal.id.in_(proposal_ids))
        ):
            found[("proposal", proposal.id)] = proposal
    return found


def open_reports(page: int = 1, per_page: int = GROUPS_PER_PAGE) -> ModerationPage:
    """Page `page` of the subjects with open reports, most reported first (then longest waiting),
    each with its newest reasons and the content itself; five queries at most."""
    open_ = Report.resolved_at.is_(None)
    groups = (
        select(
            Report.subject_type,
            Report.subject_id,
            func.count(Report.id).label("reports"),
            func.count(func.distinct(Report.reporter_id)).label("reporters"),
            func.min(Report.created_at).label("first_reported"),
            func.max(Report.created_at).label("last_reported"),
        )
        .where(open_)
        .group_by(Report.subject_type, Report.subject_id)
    )
    total = db.session.scalar(select(func.count()).select_from(groups.subquery())) or 0
    rows = db.session.execute(
        groups.order_by(
            func.count(Report.id).desc(), func.min(Report.created_at), Report.subject_type, Report.subject_id
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    items = [
        ReportedItem(r.subject_type, r.subject_id, r.reports, r.reporters, r.first_reported, r.last_reported)
        for r in rows
    ]
    if not items:
        return ModerationPage(items, total, page, per_page)

    by_key = {(item.subject_type, item.subject_id): item for item in items}
    keys = [(item.subject_type, item.subject_id) for item in items]
    ranked = (
        select(
            Report.id,
            func.row_number()
            .over(partition_by=(Report.subject_type, Report.subject_id), order_by=(Report.created_at.desc(), Report.id.desc()))
            .label("n"),
        )
        .where(open_, or_(*(and_(Report.subject_type == t, Report.subject_id == i) for t, i in keys)))
        .subquery()
    )
    for row in db.session.execute(
        select(Report.subject_type, Report.subject_id, Report.reason, Report.created_at, User.display_name, User.is_deleted)
        .join(ranked, ranked.c.id == Report.id)
        .join(User, User.id == Report.reporter_id)
        .where(ranked.c.n <= REASONS_SHOWN)
        .order_by(Report.created_at.desc(), Report.id.desc())
    ):
        name = "a former participant" if row.is_deleted else row.display_name
        by_key[(row.subject_type, row.subject_id)].reasons.append(ReasonGiven(name, row.reason, row.created_at))

    subjects = _subjects(keys)
    for key, item in by_key.items():
        item.subject = subjects.get(key)
    return ModerationPage(items, total, page, per_page)


@dataclass
class HiddenItem:
    subject_type: str
    subject_id: int
    hidden_at: datetime
    subject: Any = None


@dataclass
class HiddenPage(PageNumbers):
    items: list[HiddenItem]
    total: int
    page: int
    per_page: int = GROUPS_PER_PAGE


def hidden_content(page: int = 1, per_page: int = GROUPS_PER_PAGE) -> HiddenPage:
    """Page `page` of the hidden comments, reflections and proposals, most recently hidden first;
    four queries at most."""
    both = union_all(
        select(literal("comment").label("subject_type"), Comment.id.label("subject_id"), Comment.hidden_at.label("hidden_at"))
        .where(Comment.hidden_at.is_not(None)),
        select(literal("proposal").label("subject_type"), Proposal.id.label("subject_id"), Proposal.hidden_at.label("hidden_at"))
        .where(Proposal.hidden_at.is_not(None)),
    ).subquery()
    total = db.session.scalar(select(func.count()).select_from(both)) or 0
    rows = db.session.execute(
        select(both.c.subject_type, both.c.subject_id, both.c.hidden_at)
        .order_by(both.c.hidden_at.desc(), both.c.subject_type, both.c.subject_id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    items = [HiddenItem(r.subject_type, r.subject_id, r.hidden_at) for r in rows]
    subjects = _subjects([(item.subject_type, item.subject_id) for item in items])
    for item in items:
        item.subject = subjects.get((item.subject_type, item.subject_id))
    return HiddenPage(items, total, page, per_page)


def open_report_count() -> int:
    """How many subjects have open reports (for a facilitator's link to the list)."""
    return db.session.scalar(
        select(func.count()).select_from(
            select(Report.subject_type, Report.subject_id)
            .where(Report.resolved_at.is_(None))
            .group_by(Report.subject_type, Report.subject_id)
            .subquery()
        )
    ) or 0
