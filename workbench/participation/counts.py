"""How many took part in a vision, and in what: the counts behind the participation page and the
vision page's contents list.

What counts: proposals that are not hidden (withdrawn ones count as withdrawn); comments and
reflections (replies included) that are neither hidden nor retracted, and not on a hidden proposal;
votes on proposals that are not hidden, a vote taken back (cleared) included: that person voted.
A participant is a person who did any of these.

Cost (DESIGN.md §6: p95 <= 50 ms with 10,000 proposals, 100,000 comments and 300,000 votes): the
database keeps the counts in the transaction of every change (participation/models.py, migrations
0028's and 0030's triggers), so working them out reads the vision's counts per element and week and
its one row of totals (`read_participation`), not every contribution or participant
(`count_participation`, ~0.3-0.5 s at that scale, which the tests compare it with). They are also
kept in a per-process cache (`caching.app_cache`), keyed by a cheap fingerprint of the data: the
newest audit event id (every proposal, withdrawal, decision, comment, retraction, hiding and
unhiding writes one) and the newest vote, comment and proposal ids (votes write no audit
event; rows are never deleted, so a new row is a new id). Reading the fingerprint is one statement
of four `max(id)` lookups, each the end of a primary-key index (~0.1 ms).

The vision page's contents list reads only open proposals and reflections per element: one
aggregate query over the same kept counts (`read_per_element`), cached the same way under its own name.

Two limits, stated on the participation page: after a change, the counts are worked out again at most once every
`PARTICIPATION_REFRESH_SECONDS` (default 60) per process, so a busy consultation pays the full count
about once a minute, not on every request; and counts kept for an unchanged fingerprint are worked
out again after `PARTICIPATION_MAX_AGE_SECONDS` (default 300), which bounds how long a change can go
unseen when PostgreSQL commits ids out of order (a transaction holding a lower id commits after a
higher one was read).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, literal_column, or_, select, union_all
from sqlalchemy.orm import aliased

from ..caching import app_cache
from ..models import AuditEvent, Comment, Element, Proposal, Vision, Vote, db, utcnow
from .models import ContributionCount, VisionTotals

OUTCOMES = ("open", "accepted", "accepted with changes", "rejected", "withdrawn")
KINDS = ("proposals", "comments", "reflections")
ROLES = ("proposed", "commented", "reflected", "voted")


@dataclass
class Participation:
    """A vision's counts at one moment (`as_of`)."""

    as_of: datetime
    # element key -> kind of contribution ("proposals", "comments", "reflections") -> count
    by_element: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # element key -> outcome ("open", "accepted", ...) -> count of proposals
    outcomes_by_element: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # the Monday that starts a week (UTC) -> kind of contribution -> count
    by_week: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # "anyone" and each of ROLES -> distinct people
    participants: dict[str, int] = field(default_factory=dict)

    @property
    def outcomes(self) -> Counter[str]:
        total: Counter[str] = Counter({outcome: 0 for outcome in OUTCOMES})
        for counts in self.outcomes_by_element.values():
            total.update(counts)
        return total

    def open_proposals(self, key: str) -> int:
        return self.outcomes_by_element.get(key, Counter())["open"]

    def reflections(self, key: str) -> int:
        return self.by_element.get(key, Counter())["reflections"]


@dataclass
class ElementCounts:
    """What the vision page's contents list says of each element, by key."""

    open: Counter[str] = field(default_factory=Counter)
    reflected: Counter[str] = field(default_factory=Counter)

    def open_proposals(self, key: str) -> int:
        return self.open[key]

    def reflections(self, key: str) -> int:
        return self.reflected[key]


# --- the fingerprint and the cache ------------------------------------------------------------------


_FINGERPRINT = select(
    select(func.max(AuditEvent.id)).scalar_subquery(),
    select(func.max(Vote.id)).scalar_subquery(),
    select(func.max(Comment.id)).scalar_subquery(),
    select(func.max(Proposal.id)).scalar_subquery(),
)


def _kept(name: str, vision: Vision, compute: Any) -> Any:
    """`compute(vision)`, from this process's cache `name` when the data has not changed (one cheap
    statement), else worked out again (see the module docstring for when a change waits)."""
    cache = app_cache(name, 64)
    fingerprint = tuple(db.session.execute(_FINGERPRINT).one())
    kept = cache.get(vision.id)
    now = time.monotonic()
    if kept is not None:
        kept_fingerprint, computed_at, counts = kept
        age = now - computed_at
        refresh = float(current_app.config.get("PARTICIPATION_REFRESH_SECONDS", 60))
        max_age = float(current_app.config.get("PARTICIPATION_MAX_AGE_SECONDS", 300))
        if age < refresh or (kept_fingerprint == fingerprint and age < max_age):
            return counts
    counts = compute(vision)
    cache.put(vision.id, (fingerprint, now, counts))
    return counts


def participation_of(vision: Vision) -> Participation:
    """The vision's counts for the participation page (cached: see `_kept`), read from the counts
    the database keeps (`read_participation`)."""
    return _kept("participation", vision, read_participation)


def element_counts_of(vision: Vision) -> ElementCounts:
    """Open proposals and reflections per element, for the vision page (cached: see `_kept`)."""
    return _kept("participation_elements", vision, read_per_element)


# --- the counts -------------------------------------------------------------------------------------


def _week_start(column: Any) -> Any:
    """SQL: the date of the Monday that starts the week of `column` (naive UTC)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("week", column)
    return func.date(column, "weekday 0", "-6 days")


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _visible_proposals(vision_id: int) -> Any:
    return and_(Proposal.vision_id == vision_id, Proposal.hidden_at.is_(None))


def _counted_comments(vision_id: int, on: Any) -> Any:
    """Comments and reflections that count: not hidden, not retracted, not on a hidden proposal
    (`on`: the proposals, outer-joined)."""
    return and_(
        Comment.vision_id == vision_id,
        Comment.hidden_at.is_(None),
        Comment.retracted_at.is_(None),
        or_(Comment.proposal_id.is_(None), on.hidden_at.is_(None)),
    )


def read_participation(vision: Vision) -> Participation:
    """The vision's counts as the database keeps them (participation/models.py, migrations 0028's
    and 0030's triggers): three queries, reading the vision's rows of contributions per element and
    week (at most elements x weeks x 7) and its one row of totals, never the contributions or the
    participants themselves. `count_participation` works the same out from the contributions (the
    tests compare them)."""
    counts = Participation(as_of=utcnow())
    keys = dict(db.session.execute(select(Element.id, Element.key).where(Element.vision_id == vision.id)).all())
    rows = db.session.execute(
        select(ContributionCount.element_id, ContributionCount.week, ContributionCount.what, ContributionCount.items)
        .where(ContributionCount.vision_id == vision.id, ContributionCount.items > 0)
    )
    for element_id, started, what, number in rows:
        key = keys.get(element_id, "")
        kind = what if what in ("comments", "reflections") else "proposals"
        if kind == "proposals":
            counts.outcomes_by_element[key][what] += number
        counts.by_element[key][kind] += number
        counts.by_week[_as_date(started)][kind] += number
    totals = db.session.execute(
        select(VisionTotals.participants, *(getattr(VisionTotals, name) for name in ROLES)).where(VisionTotals.vision_id == vision.id)
    ).one_or_none() or (0,) * (1 + len(ROLES))  # no row: nobody has contributed yet
    counts.participants = {"anyone": int(totals[0]), **{name: int(value) for name, value in zip(ROLES, totals[1:])}}
    return counts


def waiting_proposals(vision_id: Any = None, elements: Any = None) -> Any:
    """SQL (a select of one number): how many proposals wait for the facilitators
    (`models.waiting()`: open and not hidden) in the vision (an id, or an SQL expression such as
    `Vision.id` for a correlated subquery), or on the whole site when None, from the totals the
    database keeps (migration 0030): one row per vision, however many proposals there are. With
    `elements` (SQL: element ids), on those elements only, from the vision's "open" counts per element
    and week (migration 0028: the proposals waiting, as the participation page leaves hidden ones
    out): a few rows per element. The same numbers as counting `waiting()` (the tests compare them),
    in the same transaction as every change."""
    if elements is not None:
        return select(func.coalesce(func.sum(ContributionCount.items), 0)).where(
            ContributionCount.vision_id == vision_id, ContributionCount.what == "open", ContributionCount.element_id.in_(elements)
        )
    total = select(func.coalesce(func.sum(VisionTotals.open_proposals), 0))
    return total if vision_id is None else total.where(VisionTotals.vision_id == vision_id)


def open_proposals(vision_id: int, elements: Any = None) -> int:
    """How many of the vision's proposals wait, on `elements` when given (`waiting_proposals`); one
    statement."""
    return int(db.session.scalar(waiting_proposals(vision_id, elements)) or 0)


def count_participation(vision: Vision) -> Participation:
    """Work the vision's counts out from the contributions themselves: four queries, each reading
    every contribution of the vision (~0.3 s at the large scale); what `read_participation` reads
    from the counts the database keeps."""
    counts = Participation(as_of=utcnow())
    keys = dict(db.session.execute(select(Element.id, Element.key).where(Element.vision_id == vision.id)).all())

    week = _week_start(Proposal.created_at)
    proposal_rows = db.session.execute(
        select(Proposal.element_id, Proposal.status, Proposal.accepted_with_changes, week, func.count())
        .where(_visible_proposals(vision.id))
        .group_by(Proposal.element_id, Proposal.status, Proposal.accepted_with_changes, week)
    )
    for element_id, status, with_changes, started, number in proposal_rows:
        key = keys.get(element_id, "")
        outcome = "accepted with changes" if status == "accepted" and with_changes else status
        counts.outcomes_by_element[key][outcome] += number
        counts.by_element[key]["proposals"] += number
        counts.by_week[_as_date(started)]["proposals"] += number

    on = aliased(Proposal)
    week = _week_start(Comment.created_at)
    is_reflection = Comment.proposal_id.is_(None)
    comment_rows = db.session.execute(
        select(func.coalesce(Comment.element_id, on.element_id), is_reflection, week, func.count())
        .select_from(Comment)
        .outerjoin(on, on.id == Comment.proposal_id)
        .where(_counted_comments(vision.id, on))
        .group_by(func.coalesce(Comment.element_id, on.element_id), is_reflection, week)
    )
    for element_id, reflection, started, number in comment_rows:
        kind = "reflections" if reflection else "comments"
        counts.by_element[keys.get(element_id, "")][kind] += number
        counts.by_week[_as_date(started)][kind] += number

    # Each way of taking part once, as (person, proposed, commented, reflected, voted) rows, then
    # one row per person: a single pass over the contributions answers all five counts.
    def taking_part(person: Any, role: str) -> list[Any]:
        return [person.label("person"), *(literal_column("1" if name == role else "0").label(name) for name in ROLES)]

    ways = union_all(
        select(*taking_part(Proposal.author_id, "proposed")).where(_visible_proposals(vision.id)),
        select(*taking_part(Comment.author_id, "commented"))
        .select_from(Comment)
        .outerjoin(on, on.id == Comment.proposal_id)
        .where(_counted_comments(vision.id, on), Comment.proposal_id.is_not(None)),
        select(*taking_part(Comment.author_id, "reflected")).where(
            Comment.vision_id == vision.id, Comment.proposal_id.is_(None), Comment.hidden_at.is_(None), Comment.retracted_at.is_(None)
        ),
        select(*taking_part(Vote.user_id, "voted"))
        .join(Proposal, Proposal.id == Vote.proposal_id)
        .where(_visible_proposals(vision.id)),
    ).subquery()
    people = (
        select(*(func.max(ways.c[name]).label(name) for name in ROLES)).group_by(ways.c.person).subquery()
    )
    row = db.session.execute(
        select(func.count(), *(func.coalesce(func.sum(people.c[name]), 0) for name in ROLES)).select_from(people)
    ).one()
    counts.participants = {"anyone": int(row[0]), **{name: int(value) for name, value in zip(ROLES, row[1:])}}
    return counts


def read_per_element(vision: Vision) -> ElementCounts:
    """Open proposals and reflections per element key, from the counts the database keeps (one
    aggregate query over the vision's rows of `contribution_counts`); `count_per_element` works the
    same out from the contributions."""
    counts = ElementCounts()
    rows = db.session.execute(
        select(Element.key, ContributionCount.what, func.sum(ContributionCount.items))
        .join(ContributionCount, ContributionCount.element_id == Element.id)
        .where(ContributionCount.vision_id == vision.id, ContributionCount.what.in_(("open", "reflections")))
        .group_by(Element.key, ContributionCount.what)
    )
    for key, what, number in rows:
        (counts.open if what == "open" else counts.reflected)[key] += int(number)
    return counts


def count_per_element(vision: Vision) -> ElementCounts:
    """Open proposals and reflections per element key, in one aggregate query (the vision page
    runs a bounded number of queries: tests/test_public_pages.py)."""
    open_ones = select(Proposal.element_id.label("element_id"), literal_column("1").label("is_open")).where(
        _visible_proposals(vision.id), Proposal.status == "open"
    )
    reflections = select(Comment.element_id.label("element_id"), literal_column("0").label("is_open")).where(
        Comment.vision_id == vision.id, Comment.proposal_id.is_(None), Comment.hidden_at.is_(None), Comment.retracted_at.is_(None)
    )
    both = union_all(open_ones, reflections).subquery()
    counts = ElementCounts()
    rows = db.session.execute(
        select(Element.key, both.c.is_open, func.count())
        .join(both, both.c.element_id == Element.id)
        .group_by(Element.key, both.c.is_open)
    )
    for key, is_open, number in rows:
        (counts.open if is_open else counts.reflected)[key] += number
    return counts


def weeks_between(first: date, last: date) -> list[date]:
    """Every Monday from `first` to `last` (both Mondays), so that quiet weeks show as none."""
    weeks = []
    current = first
    while current <= last:
        weeks.append(current)
        current += timedelta(days=7)
    return weeks
