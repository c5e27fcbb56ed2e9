"""The consultation report of a published version ("We asked, you said, we did", issue 14 item 5).

Version n's report says what happened between version n-1 and n: what was consulted on (version
n-1, the consultation window, the webinars held), what people said in that time (contributions per
element, distinct participants, the most supported proposals, the published themes' counts) and
what was done (the changelog of version n: accepted, accepted with changes, rejected with reasons,
changes of the outline, contributors credited). Version 1's report says it is the first draft.

"That time" is from version n-1's publication (for version 1: the beginning) until version n's.
Only what the public sees is counted or named (names as `publication.name_shown` says; the most
supported proposals of people not published are counted but not listed): hidden proposals and comments (and comments on a
hidden proposal) are one total, "n hidden by moderators"; retracted comments are not counted.
Everything is read from the database on each request in a fixed number of queries; the rendering
is cached by the caller under the report's `fingerprint` (it changes with moderation, names, and
themes published, unpublished or renamed).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, union, union_all
from sqlalchemy.orm import aliased

from ..coding.models import CommentTag, ProposalTag, Tag
from ..history.services import ChangelogItem, VersionHistory, describe_versions
from ..models import Comment, Element, Proposal, User, Vision, Vote, Webinar, db, published_by
from ..publication import name_shown
from ..visions.services import load_versions

KINDS = ("proposals", "comments", "reflections")
MOST_SUPPORTED = 10
# Changelog changes that change the outline rather than words.
STRUCTURAL = ("add", "remove", "reorder", "move")


@dataclass(frozen=True)
class ElementCounts:
    """What people said on one element: visible proposals, comments and reflections."""

    key: str
    label: str
    proposals: int
    comments: int
    reflections: int


@dataclass(frozen=True)
class SupportedProposal:
    id: int
    label: str
    title: str
    author: str
    support: int
    oppose: int
    outcome: str  # open, accepted, accepted with changes, rejected, withdrawn


@dataclass(frozen=True)
class HeldWebinar:
    title: str
    starts_at: datetime


@dataclass
class ConsultationReport:
    """Everything the report page and its Word document show, as read from the database."""

    slug: str
    vision_title: str
    number: int
    published_at: datetime
    previous_number: int | None
    since: datetime | None  # version n-1's publication; None for version 1
    opens_at: datetime | None
    closes_at: datetime | None
    webinars: list[HeldWebinar]
    elements: list[ElementCounts]
    hidden: int
    participants: int
    supported: list[SupportedProposal]
    tags: list[tuple[str, int]]  # the published themes (tag_counts)
    changes: VersionHistory
    totals: Counter[str] = field(default_factory=Counter)

    @property
    def first(self) -> bool:
        return self.previous_number is None

    @property
    def accepted(self) -> list[ChangelogItem]:
        return [item for item in self.changes.accepted if not item.with_changes]

    @property
    def accepted_with_changes(self) -> list[ChangelogItem]:
        return [item for item in self.changes.accepted if item.with_changes]

    @property
    def structural(self) -> list[ChangelogItem]:
        """Changes of the outline (elements added, removed or moved), by proposal or directly."""
        return [item for item in self.changes.accepted + self.changes.edits if item.change in STRUCTURAL]

    @property
    def fingerprint(self) -> str:
        """A digest of everything shown: equal digests, equal pages."""
        return hashlib.sha256(repr(self).encode("utf-8")).hexdigest()[:40]


def tag_counts(vision_id: int, since: datetime | None, until: datetime) -> list[tuple[str, int]]:
    """(theme, how many contributions of the period carry it) for each tag of the vision that a
    facilitator published as a theme (workbench/coding; the other tags are private notes and never
    named here), most used first, then by name; a published theme nothing carries is listed with 0.

    Counted: proposals, comments and reflections written in the period that the public sees (not
    hidden, not on a hidden proposal, not retracted) by people who let themselves be published
    (`published_by`). A merged tag's items carry its target (merging moves the taggings), so they
    count there. One query, read from the taggings of the published themes only (the kept
    `tag_counts` have no period nor publication)."""
    themes = select(Tag.id).where(Tag.vision_id == vision_id, Tag.state == "active", Tag.published_at.is_not(None))
    on = aliased(Proposal)
    carried = union_all(
        select(ProposalTag.tag_id.label("tag_id"))
        .join(Proposal, Proposal.id == ProposalTag.proposal_id)
        .where(
            ProposalTag.tag_id.in_(themes),
            Proposal.vision_id == vision_id,
            Proposal.hidden_at.is_(None),
            published_by(Proposal.author_id),
            _in_period(Proposal.created_at, since, until),
        ),
        select(CommentTag.tag_id)
        .join(Comment, Comment.id == CommentTag.comment_id)
        .outerjoin(on, on.id == Comment.proposal_id)
        .where(
            CommentTag.tag_id.in_(themes),
            Comment.vision_id == vision_id,
            Comment.hidden_at.is_(None),
            Comment.retracted_at.is_(None),
            on.hidden_at.is_(None),
            published_by(Comment.author_id),
            _in_period(Comment.created_at, since, until),
        ),
    ).subquery()
    n = func.count(carried.c.tag_id)
    rows = db.session.execute(
        select(Tag.name, n)
        .select_from(Tag)
        .outerjoin(carried, carried.c.tag_id == Tag.id)
        .where(Tag.vision_id == vision_id, Tag.state == "active", Tag.published_at.is_not(None))
        .group_by(Tag.id, Tag.name, Tag.name_key)
        .order_by(n.desc(), Tag.name_key, Tag.id)
    ).all()
    return [(name, int(count)) for name, count in rows]


def _in_period(column: Any, since: datetime | None, until: datetime) -> Any:
    return and_(column < until, column >= since) if since is not None else column < until


class _Changes:
    """A published version as `describe_versions` reads it."""

    def __init__(self, number: int, published_at: datetime, notes: str, changelog: list[dict[str, Any]]):
        self.number, self.published_at, self.notes = number, published_at, notes
        self.published_by_id = None
        self.changelog = json.dumps(changelog)


def _outcome(status: str, with_changes: bool) -> str:
    return "accepted with changes" if status == "accepted" and with_changes else status


def consultation_report(slug: str, number: int) -> ConsultationReport | None:
    """The report of version `number` of the vision `slug`, or None when there is no such version.

    Eleven queries at most, whatever the number of contributions: the two versions, the vision, the
    webinars, proposals and comments per element, the elements' keys, participants, the most
    supported proposals, the published themes, and the changelog's names and moderation (two)."""
    found = load_versions(slug, (number - 1, number) if number > 1 else (number,))
    if number not in found:
        return None
    version, previous = found[number], found.get(number - 1)
    vision = db.session.get(Vision, version.vision_id)
    since, until = (previous.published_at if previous else None), version.published_at

    webinars = [
        HeldWebinar(row.title, row.starts_at)
        for row in db.session.execute(
            select(Webinar.title, Webinar.starts_at)
            .where(Webinar.vision_id == vision.id, _in_period(Webinar.starts_at, since, until), Webinar.ends_at <= until)
            .order_by(Webinar.starts_at, Webinar.id)
        )
    ]

    counts: dict[int, Counter[str]] = {}
    hidden = 0
    proposal_hidden = Proposal.hidden_at.is_not(None)
    for element_id, is_hidden, n in db.session.execute(
        select(Proposal.element_id, proposal_hidden, func.count())
        .where(Proposal.vision_id == vision.id, _in_period(Proposal.created_at, since, until))
        .group_by(Proposal.element_id, proposal_hidden)
    ):
        if is_hidden:
            hidden += n
        else:
            counts.setdefault(element_id, Counter())["proposals"] += n

    on = aliased(Proposal)
    comment_hidden = or_(Comment.hidden_at.is_not(None), on.hidden_at.is_not(None))
    is_reflection = Comment.proposal_id.is_(None)
    element = func.coalesce(Comment.element_id, on.element_id)
    for element_id, reflection, is_hidden, n in db.session.execute(
        select(element, is_reflection, comment_hidden, func.count())
        .select_from(Comment)
        .outerjoin(on, on.id == Comment.proposal_id)
        .where(Comment.vision_id == vision.id, Comment.retracted_at.is_(None), _in_period(Comment.created_at, since, until))
        .group_by(element, is_reflection, comment_hidden)
    ):
        if is_hidden:
            hidden += n
        else:
            counts.setdefault(element_id, Counter())["reflections" if reflection else "comments"] += n

    # Labels as consulted on: the previous version's, else this version's, else the element's key.
    labels = {e["key"]: e["label"] for e in version.elements}
    if previous is not None:
        labels.update({e["key"]: e["label"] for e in previous.elements})
    order = [e["key"] for e in (previous or version).elements]
    keys = dict(db.session.execute(select(Element.id, Element.key).where(Element.vision_id == vision.id)).all())
    by_key = {keys.get(element_id, ""): c for element_id, c in counts.items()}
    ordered = [k for k in order if k in by_key] + sorted(k for k in by_key if k not in order)
    elements = [
        ElementCounts(k, labels.get(k, k), *(by_key[k][kind] for kind in KINDS)) for k in ordered
    ]
    totals: Counter[str] = Counter({kind: sum(getattr(e, kind) for e in elements) for kind in KINDS})

    visible = and_(Proposal.vision_id == vision.id, Proposal.hidden_at.is_(None))
    people = union(
        select(Proposal.author_id.label("person")).where(visible, _in_period(Proposal.created_at, since, until)),
        select(Comment.author_id)
        .select_from(Comment)
        .outerjoin(on, on.id == Comment.proposal_id)
        .where(
            Comment.vision_id == vision.id,
            Comment.hidden_at.is_(None),
            Comment.retracted_at.is_(None),
            on.hidden_at.is_(None),
            _in_period(Comment.created_at, since, until),
        ),
        select(Vote.user_id).join(Proposal, Proposal.id == Vote.proposal_id).where(visible, _in_period(Vote.created_at, since, until)),
    ).subquery()
    participants = db.session.scalar(select(func.count()).select_from(people)) or 0

    supported = [
        SupportedProposal(
            id=row.id,
            label=labels.get(row.key, row.key),
            title=row.title,
            author=name_shown(row.display_name, is_deleted=row.is_deleted, publish_as=row.publish_as),
            support=row.support_count,
            oppose=row.oppose_count,
            outcome=_outcome(row.status, row.accepted_with_changes),
        )
        for row in db.session.execute(
            select(
                Proposal.id, Proposal.title, Proposal.support_count, Proposal.oppose_count, Proposal.status,
                Proposal.accepted_with_changes, Element.key, User.display_name, User.is_deleted, User.publish_as,
            )
            .select_from(Proposal)
            .join(Element, Element.id == Proposal.element_id)
            .join(User, User.id == Proposal.author_id)
            # Counted above whoever wrote them; listed by name and title only when the author publishes.
            .where(visible, published_by(Proposal.author_id), _in_period(Proposal.created_at, since, until), Proposal.support_count > 0)
            .order_by(Proposal.support_count.desc(), Proposal.id)
            .limit(MOST_SUPPORTED)
        )
    ]

    changes = describe_versions([_Changes(version.number, version.published_at, version.notes, version.changelog)])[0]
    return ConsultationReport(
        slug=version.slug,
        vision_title=version.snapshot["vision"]["title"],
        number=number,
        published_at=version.published_at,
        previous_number=previous.number if previous else None,
        since=since,
        opens_at=vision.opens_at,
        closes_at=vision.closes_at,
        webinars=webinars,
        elements=elements,
        hidden=hidden,
        participants=int(participants),
        supported=supported,
        tags=tag_counts(vision.id, since, until),
        changes=changes,
        totals=totals,
    )
