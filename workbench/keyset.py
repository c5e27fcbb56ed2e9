"""Long lists paged so that the last page costs what the first does: keyset ("seek") pagination.

A page is found from the row the page before it ended with (`after=<id>`) or the row the page after
it began with (`before=<id>`), or is the first or the last page (`last=1`). That row is looked up by
its id, and its values of the list's order bound the next query, so the database starts at that
point of an index and reads one page of rows, however deep in the list the page is: an `OFFSET`
reads and throws away every row before it. The bound repeats the order's first column as a plain
comparison (`created_at >= x`) beside the exact one, so that SQLite and PostgreSQL both start their
index range there whatever the directions of the other columns.

A list names its order as SQLAlchemy `order_by` clauses (`Proposal.created_at.desc()`, ...), whose
last column is unique (the id), so every row has one place in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.sql import operators

from .numbers import whole_number


@dataclass(frozen=True)
class Seek:
    """Which page of a list a request asks for: after a row, before a row, the last, or the first."""

    after: int | None = None
    before: int | None = None
    last: bool = False

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Seek:
        """From the query string or a form: `after` or `before` (a row's id), or `last=1`; anything
        else, or more than one of them, is the first page."""
        after, before, last = whole_number(args.get("after")), whole_number(args.get("before")), args.get("last") == "1"
        if sum((after is not None, before is not None, last)) != 1:
            return cls()
        return cls(after=after, before=before, last=last)

    @property
    def first(self) -> bool:
        return self.after is None and self.before is None and not self.last

    def link_args(self) -> dict[str, Any]:
        """As a link or a form names this page (nothing for the first)."""
        if self.after is not None:
            return {"after": self.after}
        if self.before is not None:
            return {"before": self.before}
        return {"last": 1} if self.last else {}


@dataclass
class KeysetPage:
    """One page of a list: its rows in the list's order, how many the whole list holds, and whether
    rows come before and after it (the ids to link to those pages are its first and last rows')."""

    rows: list[Any]
    total: int
    has_previous: bool
    has_next: bool
    ids: list[int] = field(default_factory=list)
    # What the page should say about how its rows were found (a filter that was too broad, say).
    notes: list[str] = field(default_factory=list)

    @property
    def previous(self) -> Seek | None:
        return Seek(before=self.ids[0]) if self.has_previous and self.ids else None

    @property
    def next(self) -> Seek | None:
        return Seek(after=self.ids[-1]) if self.has_next and self.ids else None

    first_page = Seek()
    last_page = Seek(last=True)

    @property
    def multiple_pages(self) -> bool:
        return self.has_previous or self.has_next


def _parts(order_by: Sequence[Any]) -> list[tuple[Any, bool]]:
    """Each clause of `order_by` as (its column or expression, descending?)."""
    parts = []
    for clause in order_by:
        modifier = getattr(clause, "modifier", None)
        if modifier in (operators.desc_op, operators.asc_op):
            parts.append((clause.element, modifier is operators.desc_op))
        else:
            parts.append((clause, False))
    return parts


def reversed_order(order_by: Sequence[Any]) -> list[Any]:
    """The same order, backwards."""
    return [column.asc() if descending else column.desc() for column, descending in _parts(order_by)]


def beyond(order_by: Sequence[Any], values: Sequence[Any], *, forward: bool = True, inclusive: bool = False) -> Any:
    """SQL: the rows that come after the row with these `values` of `order_by` (before it when not
    `forward`); with `inclusive`, that row too."""
    parts = _parts(order_by)

    def later(column: Any, descending: bool, value: Any) -> Any:
        return column < value if descending == forward else column > value

    def or_equal(column: Any, descending: bool, value: Any) -> Any:
        return column <= value if descending == forward else column >= value

    alternatives = []
    for i, ((column, descending), value) in enumerate(zip(parts, values, strict=True)):
        earlier_equal = [c == v for (c, _), v in zip(parts[:i], values[:i])]
        last = i == len(parts) - 1
        step = or_equal(column, descending, value) if (last and inclusive) else later(column, descending, value)
        alternatives.append(and_(*earlier_equal, step))
    (first_column, first_descending), first_value = parts[0], values[0]
    # The plain bound on the first column lets the database start its index scan at the row.
    return and_(or_equal(first_column, first_descending, first_value), or_(*alternatives))


def values_of(order_by: Sequence[Any], id_column: Any, row_id: int, *where: Any) -> tuple[Any, ...] | None:
    """The values of `order_by` of the row with this id (and `where`), or None when there is none."""
    columns = [column for column, _ in _parts(order_by)]
    from .extensions import db

    found = db.session.execute(select(*columns).where(id_column == row_id, *where).limit(1)).first()
    return tuple(found) if found is not None else None


def seek_page(
    query: Any,
    order_by: Sequence[Any],
    seek: Seek,
    per_page: int,
    *,
    total: int,
    values: Callable[[int], tuple[Any, ...] | None],
    row_id: Callable[[Any], int],
) -> KeysetPage:
    """The page `seek` asks for of `query` (a select, its filters applied, not yet ordered) in
    `order_by`; `values(id)` gives a row's values of the order (see `values_of`), `row_id(row)` a
    fetched row's id. A row asked for that no longer exists gives the first page. At most three
    queries, each reading at most one page of rows from an index: the row named, the page, and
    whether anything lies on the other side of it."""
    from .extensions import db

    bound = None
    if seek.after is not None or seek.before is not None:
        bound = values(seek.after if seek.after is not None else seek.before)
    if bound is None and not seek.last:
        rows = list(db.session.execute(query.order_by(*order_by).limit(per_page + 1)))
        return _page(rows[:per_page], total, False, len(rows) > per_page, row_id)
    if seek.last:
        rows = list(db.session.execute(query.order_by(*reversed_order(order_by)).limit(per_page + 1)))
        earlier = len(rows) > per_page
        rows = rows[:per_page]
        rows.reverse()
        return _page(rows, total, earlier, False, row_id)
    forward = seek.after is not None
    ordered = order_by if forward else reversed_order(order_by)
    rows = list(db.session.execute(query.where(beyond(order_by, bound, forward=forward)).order_by(*ordered).limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    # Anything on the other side: the row named itself (if it is still in the list) or one beyond it.
    other_side = db.session.scalar(select(query.where(beyond(order_by, bound, forward=not forward, inclusive=True)).exists()))
    if not forward:
        rows.reverse()
        return _page(rows, total, more, bool(other_side), row_id)
    return _page(rows, total, bool(other_side), more, row_id)


def seek_in_list(items: Sequence[Any], seek: Seek, per_page: int, id_of: Callable[[Any], int]) -> KeysetPage:
    """The page `seek` asks for of a list already in memory (a bounded one: see its caller); a row
    asked for that is not in it gives the first page."""
    ids = [id_of(item) for item in items]
    start = 0
    if seek.last:
        start = max(0, len(items) - per_page)
    elif seek.after is not None and seek.after in ids:
        start = ids.index(seek.after) + 1
    elif seek.before is not None and seek.before in ids:
        start = max(0, ids.index(seek.before) - per_page)
    end = start + per_page
    return KeysetPage(list(items[start:end]), len(items), start > 0, end < len(items), ids[start:end])


def _page(rows: list[Any], total: int, has_previous: bool, has_next: bool, row_id: Callable[[Any], int]) -> KeysetPage:
    return KeysetPage(rows, total, has_previous, has_next, [row_id(r) for r in rows])
