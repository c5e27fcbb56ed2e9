"""The facilitators' queue: the open, visible proposals of a vision waiting for a decision, with
their flags (stale, conflicted, competing), each with its first change, filtered (element, ambition,
flag, words, author, assignee) and sorted, a page at a time; the next one to decide after a decision
made from a filtered queue; and its counts for the facilitators' overview."""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload

from .. import keyset
from ..keyset import KeysetPage, Seek
from ..models import Element, Proposal, Vision, db, waiting
from ..numbers import whole_number
from ..participation.counts import open_proposals
from ..proposals.services import Excerpt, clean_author_name, excerpt
from ..word_search import searching_order, walking_the_order
from . import queue_flags
from .queue_flags import (
    CANDIDATE_COLUMNS,
    ELEMENT_KEY,
    ENTRY_REMOVED,
    ENTRY_TEXT,
    TARGET_REMOVED,
    TEXT_COLUMNS,
    Rivals,
    candidate,
    competing_clause,
    flag_details,
    known_conflicted_clause,
    rebase_not_kept,
    shown_candidate,
    unknown_clause,
)
from .queue_where import elements_under, narrowing

PER_PAGE = 20
# The "Conflicted" filter, when some stale proposals have no rebase kept for their working text
# (queue_flags), rebases at most this many candidates.
FLAG_CHECK_LIMIT = 500
# The "Competing" and "Conflicted" filters count what they find this far, then say "more than".
FLAG_COUNTED_UP_TO = 500
# A search counts the proposals it finds this far, then says "more than": an exact count of the
# proposals that hold a common word would read every one of them (counting to 1,000 was ~6 ms on
# PostgreSQL at three times the large scale). As far as the flags count; above FEW_FOUND, which the
# count decides.
SEARCH_COUNTED_UP_TO = 500
# A search that finds at most this many reads them from the word index and puts them in order; one
# that finds more walks the queue's own order and stops after a page (word_search.searching_order).
FEW_FOUND = 300


@dataclass(frozen=True)
class QueueSort:
    label: str
    # Ends in the id, so that every proposal has one place in the order (keyset.beyond).
    order_by: tuple[Any, ...]


# The only sorts a request may name (`sort=`); anything else is the default.
QUEUE_SORTS: dict[str, QueueSort] = {
    "oldest": QueueSort("Waiting longest first", (Proposal.created_at.asc(), Proposal.id.asc())),
    "newest": QueueSort("Newest first", (Proposal.created_at.desc(), Proposal.id.desc())),
    "support": QueueSort("Most support first", (Proposal.support_count.desc(), Proposal.created_at.asc(), Proposal.id.asc())),
}
DEFAULT_QUEUE_SORT = "oldest"

# The flags a request may filter on (`flag=`).
QUEUE_FLAGS: dict[str, str] = {
    "": "Any",
    "stale": "Stale",
    "conflicted": "Conflicted",
    "competing": "Competing",
    "current": "Up to date",
}


# Who looks after a proposal (`assignee=`): these words, or a facilitator's id.
ASSIGNEE_WORDS: dict[str, str] = {"me": "Assigned to me", "none": "Not assigned to anyone"}
# Words searched for (`q=`) are cut to this many characters: a bounded LIKE.
SEARCH_LENGTH = 100


def clean_search(raw: str | None) -> str:
    """What was typed in "Words", as searched: printable characters only, spaces collapsed, at most
    SEARCH_LENGTH characters; "" for nothing."""
    printable = "".join(c if c.isprintable() else " " for c in (raw or ""))
    return " ".join(printable.split())[:SEARCH_LENGTH].strip()


@dataclass(frozen=True)
class QueueFilters:
    element_key: str = ""
    flag: str = ""
    sort: str = DEFAULT_QUEUE_SORT
    q: str = ""  # words in the proposal's title, text or rationale
    ambition_key: str = ""  # the ambition, its objectives and its enabling conditions
    author_name: str = ""  # all or part of the author's name (as the proposals list's `by`)
    assignee: str = ""  # "", "me", "none" or a facilitator's id
    tag: str = ""  # the id of a tag of the codebook (coding/): proposals that carry it

    @classmethod
    def parse(
        cls, args: Mapping[str, str], element_keys: Container[str], assignee_ids: Container[int] | None = None
    ) -> QueueFilters:
        """The filters a request names (`element`, `flag`, `sort`, `q`, `ambition`, `by`,
        `assignee`); anything unknown is the default. An assignee id is checked against
        `assignee_ids` when given, else only its shape."""
        element_key, flag, ambition = args.get("element", ""), args.get("flag", ""), args.get("ambition", "")
        sort = args.get("sort", DEFAULT_QUEUE_SORT)
        assignee = args.get("assignee", "")
        if assignee not in ASSIGNEE_WORDS:
            number = whole_number(assignee)
            known = number is not None and (assignee_ids is None or number in assignee_ids)
            assignee = str(number) if known else ""
        return cls(
            element_key=element_key if element_key in element_keys else "",
            flag=flag if flag in QUEUE_FLAGS else "",
            sort=sort if sort in QUEUE_SORTS else DEFAULT_QUEUE_SORT,
            q=clean_search(args.get("q")),
            ambition_key=ambition if ambition.startswith("ambition-") and ambition in element_keys else "",
            author_name=clean_author_name(args.get("by")),
            assignee=assignee,
            tag=str(whole_number(args.get("tag")) or ""),
        )

    @property
    def filtered(self) -> bool:
        """Whether any filter narrows the queue (the order is not a filter)."""
        return any((self.element_key, self.flag, self.q, self.ambition_key, self.author_name, self.assignee, self.tag))

    @property
    def sort_param(self) -> str:
        """`sort` as a link names it: empty for the default."""
        return self.sort if self.sort != DEFAULT_QUEUE_SORT else ""

    def link_args(self) -> dict[str, str]:
        """The filters as a link to the queue names them (`url_for("facilitation.queue", slug=...,
        **filters.link_args())`); defaults are left out."""
        named = (
            ("element", self.element_key),
            ("flag", self.flag),
            ("sort", self.sort_param),
            ("q", self.q),
            ("ambition", self.ambition_key),
            ("by", self.author_name),
            ("assignee", self.assignee),
            ("tag", self.tag),
        )
        return {name: value for name, value in named if value}

    @property
    def carried(self) -> str:
        """The filters as a decision page carries them back to the queue (`from=`): the queue's
        query string, with its order always named so that it is never empty."""
        return urlencode({**self.link_args(), "sort": self.sort})

    @classmethod
    def from_carried(cls, raw: str | None, element_keys: Container[str] | None = None) -> QueueFilters | None:
        """The queue a decision page was opened from (`raw` is `carried`), or None when there is
        none or it cannot be read. Only the known filters survive (`parse`); an element key is
        checked against `element_keys` when given, else only its shape (`objective-12`)."""
        if not raw or len(raw) > MAX_CARRIED:
            return None
        try:
            pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=10)
        except ValueError:  # more fields than the queue has filters: not a queue this site wrote
            return None
        if not pairs or any(len(name) > MAX_FILTER_NAME for name, _ in pairs):
            return None
        args = dict(pairs)
        keys = element_keys if element_keys is not None else _KeyShape()
        return cls.parse(args, keys)


# A carried queue (`from=`) is seven filters, two of them typed words (each at most 100 characters,
# encoded), with names of a few letters: anything longer was not written by this site.
MAX_CARRIED = 1500
MAX_FILTER_NAME = 10


class _KeyShape:
    """Contains any string shaped like an element key, for reading a carried queue without its vision."""

    _SHAPE = re.compile(r"[a-z]{1,20}-[0-9]{1,9}")

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._SHAPE.fullmatch(key) is not None


@dataclass
class QueueRow:
    proposal: Proposal
    element_key: str
    stale: bool
    removed: bool
    conflicted: bool
    # The waiting proposals it competes with (how many, and the first few).
    rivals: Rivals
    # Its first change with a few words around it, and how many more (None: it changes nothing).
    change: Excerpt | None = None

    @property
    def competing(self) -> bool:
        return self.rivals.count > 0


@dataclass
class QueuePage(KeysetPage):
    """A page of the queue: `rows` are QueueRows."""

    # For "Conflicted" with rebases to ask: whether every candidate was checked (FLAG_CHECK_LIMIT).
    checked_all: bool = True
    # Set when the list was counted only this far (a search, SEARCH_COUNTED_UP_TO; "Competing" or
    # "Conflicted", FLAG_COUNTED_UP_TO): more match.
    counted_up_to: int | None = None


def stale_clause(vision: Vision | int) -> Any:
    """SQL: the proposal's base is not its element's working text (or the element was removed).
    Texts belong to one element, so that is: its base is none of the vision's working texts (a set
    the database reads once, not a join per proposal). `vision`: the vision or its id."""
    return queue_flags.stale_clause(vision if isinstance(vision, int) else vision.id)


def _open_where(vision: Vision, filters: QueueFilters, viewer_id: int | None = None, notes: list[str] | None = None) -> list[Any]:
    """The conditions of the queue with `filters`; what the page should say about them is added to
    `notes` when given."""
    where = [
        Proposal.vision_id == vision.id,
        waiting(),
    ]
    if filters.element_key:
        where.append(Proposal.element_id == _element_id(vision, filters.element_key).scalar_subquery())
    narrowed, said = narrowing(vision, filters, viewer_id)
    if notes is not None:
        notes += said
    return [*where, *narrowed]


def queue_page(
    vision: Vision, filters: QueueFilters, seek: Seek = Seek(), per_page: int = PER_PAGE, *, viewer_id: int | None = None
) -> QueuePage:
    """The page `seek` asks for of the facilitators' queue: open, visible proposals with their flags,
    first change, author and assignee; "assigned to me" (`filters.assignee`) means `viewer_id`.

    A bounded number of queries whatever the data, each reading one page of rows from an index
    however deep the page (keyset.seek_page). "Stale" is computed in SQL (the proposal's base is not
    the element's working text); "Competing" and "Conflicted" read what is kept when they change
    (kept_flags.py), so that each filter is a condition in SQL too. Only when some stale proposal's
    kept rebase is for an earlier working text does "Conflicted" rebase candidates itself, at most
    FLAG_CHECK_LIMIT of them in the chosen order (`checked_all` says whether that covered them all).
    """
    return _select(vision, filters, [], seek, per_page, viewer_id)


def _select(
    vision: Vision, filters: QueueFilters, extra: list[Any], seek: Seek, per_page: int, viewer_id: int | None = None
) -> QueuePage:
    """`queue_page`, narrowed further by the SQL conditions in `extra`."""
    sort = QUEUE_SORTS.get(filters.sort, QUEUE_SORTS[DEFAULT_QUEUE_SORT])
    notes: list[str] = []
    flagged = []
    if filters.flag == "stale":
        flagged.append(stale_clause(vision))
    elif filters.flag == "current":
        flagged.append(~stale_clause(vision))
    elif filters.flag == "competing":
        flagged.append(competing_clause())
    where = [*_open_where(vision, filters, viewer_id, notes), *flagged, *extra]
    if filters.flag == "conflicted":
        if db.session.scalar(select(rebase_not_kept(vision.id))):
            # Some rebases are not kept for the working text: ask them, for a bounded list.
            if filters.q:
                sort = QueueSort(sort.label, tuple(searching_order(sort.order_by)))
            found = _conflicted_page([*where, or_(known_conflicted_clause(vision.id), unknown_clause(vision.id))], sort, seek, per_page)
            found.notes += notes
            return found
        where.append(known_conflicted_clause(vision.id))

    if filters.q:
        # A search: count what it finds (up to a bound), then read a page the way that suits that many.
        found_so_far = select(Proposal.id).where(*where).limit(SEARCH_COUNTED_UP_TO + 1).subquery()
        total = db.session.scalar(select(func.count()).select_from(found_so_far)) or 0
        counted_up_to = SEARCH_COUNTED_UP_TO if total > SEARCH_COUNTED_UP_TO else None
        shown_total = min(total, SEARCH_COUNTED_UP_TO)
        if total <= FEW_FOUND:
            sort = QueueSort(sort.label, tuple(searching_order(sort.order_by)))
            found = _page(vision, where, sort, seek, per_page, shown_total, counted_up_to)
        else:
            with walking_the_order():
                found = _page(vision, where, sort, seek, per_page, shown_total, counted_up_to)
    elif filters.flag in ("competing", "conflicted"):
        # Counted up to a bound: an exact count of the competing ones would read every open proposal.
        found_so_far = select(Proposal.id).where(*where).limit(FLAG_COUNTED_UP_TO + 1).subquery()
        total = db.session.scalar(select(func.count()).select_from(found_so_far)) or 0
        counted_up_to = FLAG_COUNTED_UP_TO if total > FLAG_COUNTED_UP_TO else None
        found = _page(vision, where, sort, seek, per_page, min(total, FLAG_COUNTED_UP_TO), counted_up_to)
    else:
        total = _kept_total(vision, filters, extra)
        if total is None:
            total = db.session.scalar(select(func.count(Proposal.id)).where(*where)) or 0
        found = _page(vision, where, sort, seek, per_page, total)
    found.notes += notes
    return found


def _element_id(vision: Vision, key: str) -> Any:
    """SQL: the id of the vision's element with this key."""
    return select(Element.id).where(Element.vision_id == vision.id, Element.key == key)


def _kept_total(vision: Vision, filters: QueueFilters, extra: list[Any]) -> int | None:
    """How many wait in the queue, from the counts the database keeps (participation's
    `waiting_proposals`: the vision's totals, or its counts per element), when nothing narrows it
    but an element or an ambition, where counting the proposals reads one index entry per proposal
    (20,000 at three times the large scale). None when another filter narrows it: then the
    proposals are counted."""
    if extra or filters.flag or filters.q or filters.author_name or filters.assignee or filters.tag:
        return None
    if filters.element_key:
        return open_proposals(vision.id, _element_id(vision, filters.element_key))
    if filters.ambition_key:
        return open_proposals(vision.id, elements_under(vision, filters.ambition_key))
    return open_proposals(vision.id)


def next_in_queue(vision: Vision, filters: QueueFilters, after: Proposal, decider_id: int) -> Proposal | None:
    """The open proposal a facilitator takes next in this filtered queue, after deciding `after`.

    The first one after `after` in the queue's order that the facilitator did not write (they never
    decide their own); when none follows, the first from the top (one they passed over earlier);
    None when nothing else in this queue waits for them. Two lookups of one row in the queue.
    """
    sort = QUEUE_SORTS.get(filters.sort, QUEUE_SORTS[DEFAULT_QUEUE_SORT])
    not_theirs = [Proposal.author_id != decider_id, Proposal.id != after.id]
    place = keyset.values_of(sort.order_by, Proposal.id, after.id)
    following = [keyset.beyond(sort.order_by, place)] if place is not None else []
    for extra in ([*not_theirs, *following], not_theirs):
        rows = _select(vision, filters, extra, Seek(), 1, decider_id).rows
        if rows:
            return rows[0].proposal
    return None


@dataclass(frozen=True)
class QueueCounts:
    """What waits in a vision's queue, for the facilitators' overview."""

    open: int
    stale: int
    oldest_created_at: datetime | None


def queue_counts(vision: Vision) -> QueueCounts:
    """How many open proposals wait, how many of them are stale, and when the oldest was written;
    one query."""
    row = db.session.execute(
        select(
            func.count(Proposal.id),
            func.coalesce(func.sum(case((stale_clause(vision), 1), else_=0)), 0),
            func.min(Proposal.created_at),
        ).where(*_open_where(vision, QueueFilters()))
    ).one()
    return QueueCounts(open=row[0] or 0, stale=int(row[1] or 0), oldest_created_at=row[2])


def conflicted_count(vision: Vision) -> tuple[int, bool]:
    """How many open proposals are conflicted, as the queue's "Conflicted" filter finds them (the
    oldest FLAG_CHECK_LIMIT candidates: those the kept rebases say are conflicted, and stale ones
    whose rebase is not kept for the working text, rebased here), and whether that covered every
    candidate; one query."""
    where = [*_open_where(vision, QueueFilters()), or_(known_conflicted_clause(vision.id), unknown_clause(vision.id))]
    rows = db.session.execute(
        select(*CANDIDATE_COLUMNS, *TEXT_COLUMNS)
        .where(*where)
        .order_by(*QUEUE_SORTS[DEFAULT_QUEUE_SORT].order_by)
        .limit(FLAG_CHECK_LIMIT + 1)
    ).all()
    conflicted, _ = flag_details([candidate(r) for r in rows[:FLAG_CHECK_LIMIT]], competition=False)
    return sum(conflicted.values()), len(rows) <= FLAG_CHECK_LIMIT


def _conflicted_page(where: list[Any], sort: QueueSort, seek: Seek, per_page: int) -> QueuePage:
    """A page of the conflicted ones among the candidates `where` finds (at most FLAG_CHECK_LIMIT,
    those whose rebase is not kept rebased here); `seek` pages through them (keyset.seek_in_list)."""
    rows = db.session.execute(
        select(*CANDIDATE_COLUMNS, *TEXT_COLUMNS).where(*where).order_by(*sort.order_by).limit(FLAG_CHECK_LIMIT + 1)
    ).all()
    checked_all = len(rows) <= FLAG_CHECK_LIMIT
    rows = rows[:FLAG_CHECK_LIMIT]
    candidates = [candidate(r) for r in rows]
    conflicted, _ = flag_details(candidates, competition=False)
    matching = [(r, c) for r, c in zip(rows, candidates) if conflicted[c.id]]
    found = keyset.seek_in_list(matching, seek, per_page, lambda match: match[0].id)
    loaded = _shown_rows(found.ids)
    shown = [c for _, c in found.rows]
    _, competing = flag_details(shown, conflicts=False)
    result = [
        QueueRow(
            proposal=loaded[c.id][0],
            element_key=loaded[c.id][1],
            stale=c.removed or c.base_text_id != c.current_text_id,
            removed=c.removed,
            conflicted=conflicted[c.id],
            rivals=competing[c.id],
            change=excerpt(loaded[c.id][0]),
        )
        for c in shown
    ]
    return QueuePage(result, found.total, found.has_previous, found.has_next, found.ids, checked_all=checked_all)


# What a row shows of each proposal, loaded with it: who wrote it, who looks after it, the text it
# was written against (for its first change, `proposals.services.excerpt`), and a move's target.
_ROW_LOADS = (
    joinedload(Proposal.author), joinedload(Proposal.assignee), joinedload(Proposal.base_text),
    joinedload(Proposal.target_parent),  # where a proposal to move an element would put it
)


def _shown_rows(ids: list[int]) -> dict[int, Any]:
    """The proposals with these ids, each as (proposal, element key, working text id, element
    removed, target removed), loaded with what a row shows; one query."""
    if not ids:
        return {}
    query = select(Proposal, ELEMENT_KEY, ENTRY_TEXT, ENTRY_REMOVED, TARGET_REMOVED).options(*_ROW_LOADS).where(Proposal.id.in_(ids))
    return {row[0].id: row for row in db.session.execute(query)}


def _page(
    vision: Vision, where: list[Any], sort: QueueSort, seek: Seek, per_page: int, total: int, counted_up_to: int | None = None
) -> QueuePage:
    """The page `seek` asks for of the candidates (`total` of them, or more than `counted_up_to`),
    flagged for the shown page only. Two reads: the page's ids in order (from an index, however
    many match), then those rows with what they show (so that a filter whose matches must be
    sorted, such as "Conflicted", sorts ids, not every match joined to its author and texts)."""
    found = keyset.seek_page(
        select(Proposal.id).where(*where),
        sort.order_by,
        seek,
        per_page,
        total=total,
        values=lambda proposal_id: keyset.values_of(sort.order_by, Proposal.id, proposal_id, Proposal.vision_id == vision.id),
        row_id=lambda row: row[0],
    )
    loaded = _shown_rows(found.ids)
    rows = [loaded[proposal_id] for proposal_id in found.ids if proposal_id in loaded]
    candidates = [shown_candidate(p, text_id, removed, target_removed) for p, _, text_id, removed, target_removed in rows]
    conflicted, competing = flag_details(candidates)
    result = [
        QueueRow(
            proposal=p,
            element_key=key,
            stale=bool(removed) or p.base_text_id != text_id,
            removed=bool(removed),
            conflicted=conflicted[p.id],
            rivals=competing[p.id],
            change=excerpt(p),
        )
        for p, key, text_id, removed, _ in rows
    ]
    return QueuePage(result, total, found.has_previous, found.has_next, found.ids, counted_up_to=counted_up_to)
