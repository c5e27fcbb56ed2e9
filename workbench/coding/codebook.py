"""Reading a codebook: a vision's tags, the tags that items carry, and the counts per tag and
ambition. A fixed number of queries each, whatever the number of tags or items. No Flask."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from ..models import Comment, Element, Proposal, Vision, db
from .models import LINKS, Tag, TagCount


def tags_of_vision(vision: Vision) -> list[Tag]:
    """The vision's active tags, by name (case folded)."""
    return list(db.session.scalars(select(Tag).where(Tag.vision_id == vision.id, Tag.state == "active").order_by(Tag.name_key, Tag.id)))


def merged_tags(vision: Vision) -> list[tuple[Tag, str]]:
    """The vision's merged tags, each with the name of the tag it was merged into."""
    target = select(Tag.id, Tag.name).where(Tag.vision_id == vision.id).subquery()
    rows = db.session.execute(
        select(Tag, target.c.name).join(target, target.c.id == Tag.merged_into_id).where(Tag.vision_id == vision.id).order_by(Tag.name, Tag.id)
    ).all()
    return [(tag, into) for tag, into in rows]


def tags_on(kind: str, item_ids: Iterable[int]) -> dict[int, list[Tag]]:
    """{item id: its tags by name} for proposals (`kind` "proposal") or comments ("comment")."""
    ids = list(item_ids)
    if not ids:
        return {}
    link, item_column = LINKS[kind]
    found: dict[int, list[Tag]] = defaultdict(list)
    for item_id, tag in db.session.execute(
        select(item_column, Tag).join(Tag, Tag.id == link.tag_id).where(item_column.in_(ids)).order_by(Tag.name_key)
    ):
        found[item_id].append(tag)
    return dict(found)


def tag_names_in_pages(kind: str, rows: Iterator[tuple[Any, ...]], page: int = 2_000) -> Iterator[tuple[Any, ...]]:
    """`rows` (whose first value is the item's id) each with its tags' names appended, "; "-joined
    (empty when none): one query per `page` rows, so a stream stays a stream."""
    batch: list[tuple[Any, ...]] = []

    def flushed() -> Iterator[tuple[Any, ...]]:
        names = tags_on(kind, [row[0] for row in batch])
        for row in batch:
            yield row + ("; ".join(tag.name for tag in names.get(row[0], ())),)

    for row in rows:
        batch.append(row)
        if len(batch) >= page:
            yield from flushed()
            batch = []
    yield from flushed()


# --- counts per tag and ambition --------------------------------------------------------------------


@dataclass
class TagCounts:
    """One tag's row of the codebook table: visible items per ambition column, and by kind."""

    tag_id: int
    name: str
    by_column: dict[str, int] = field(default_factory=dict)  # ambition key, or "" for elsewhere
    proposals: int = 0
    comments: int = 0
    reflections: int = 0
    hidden: int = 0

    @property
    def total(self) -> int:
        return self.proposals + self.comments + self.reflections


@dataclass
class CodebookCounts:
    """The table of tags x ambitions: `columns` [(ambition key, label)] then ("", "Elsewhere")."""

    columns: list[tuple[str, str]]
    rows: list[TagCounts]

    def column_total(self, key: str) -> int:
        return sum(row.by_column.get(key, 0) for row in self.rows)

    def total(self, name: str) -> int:
        return sum(getattr(row, name) for row in self.rows)


def ambition_of_keys(tree: Sequence[dict[str, Any]]) -> dict[str, str]:
    """{element key: the key of the ambition it is on or under} for the working tree's elements
    (the statement and anything outside an ambition are left out)."""
    parent = {row["key"]: row["parent"] for row in tree}
    kind = {row["key"]: row["kind"] for row in tree}
    found: dict[str, str] = {}
    for key in parent:
        at: str | None = key
        while at is not None and kind.get(at) != "ambition":
            at = parent.get(at)
        if at is not None:
            found[key] = at
    return found


def codebook_counts(vision: Vision, tree: Sequence[dict[str, Any]]) -> CodebookCounts:
    """Counts of the visible items (proposals, comments, reflections) carrying each active tag, per
    ambition of the working draft (an item on an objective or condition counts for its ambition;
    on the statement or a removed element, "Elsewhere"). Hidden items, and comments on a hidden
    proposal, are not counted there but in `hidden`.

    Read from `tag_counts`, which the database keeps in step with every tagging, merge and hiding
    (migration 0028): three queries, the last reading at most tags x elements x 6 rows, however many
    items are tagged. `counted_codebook` works the same out from the items themselves."""
    tags = tags_of_vision(vision)
    key_of = dict(db.session.execute(select(Element.id, Element.key).where(Element.vision_id == vision.id)).all())
    kept = db.session.execute(
        select(TagCount.tag_id, TagCount.element_id, TagCount.kind, TagCount.hidden, TagCount.items)
        .join(Tag, Tag.id == TagCount.tag_id)
        .where(Tag.vision_id == vision.id, Tag.state == "active", TagCount.items > 0)
    ).all()
    return _tabled(tags, key_of, tree, [tuple(row) for row in kept])


def _tabled(
    tags: Sequence[Tag], key_of: dict[int, str], tree: Sequence[dict[str, Any]], counted: Sequence[tuple[int, int, str, bool, int]]
) -> CodebookCounts:
    """The table of `counted` rows (tag id, element id, kind, hidden, items) per ambition of `tree`."""
    ambition_of = ambition_of_keys(tree)
    columns = [(row["key"], row["label"]) for row in tree if row["kind"] == "ambition"] + [("", "Elsewhere")]
    rows = {tag.id: TagCounts(tag.id, tag.name) for tag in tags}
    for tag_id, element_id, kind, is_hidden, n in counted:
        row = rows.get(tag_id)
        if row is None:
            continue
        if is_hidden:
            row.hidden += n
            continue
        setattr(row, kind, getattr(row, kind) + n)
        column = ambition_of.get(key_of.get(element_id, ""), "")
        row.by_column[column] = row.by_column.get(column, 0) + n
    return CodebookCounts(columns, list(rows.values()))


def counted_codebook(vision: Vision, tree: Sequence[dict[str, Any]]) -> CodebookCounts:
    """`codebook_counts`, worked out from the items themselves: hidden items, and comments on a
    hidden proposal, in `hidden`. Four queries, the last two reading every
    tagging of the vision (~150 ms of CPU for 35,000: see bench/coding.py): what `codebook_counts`
    reads from the counts the database keeps, worked out from the items (the tests compare them)."""
    tags = tags_of_vision(vision)
    key_of = dict(db.session.execute(select(Element.id, Element.key).where(Element.vision_id == vision.id)).all())
    link, item = LINKS["proposal"]
    proposal_counts = db.session.execute(
        select(link.tag_id, Proposal.element_id, Proposal.hidden_at.is_not(None), func.count())
        .join(Proposal, Proposal.id == item)
        .where(Proposal.vision_id == vision.id)
        .group_by(link.tag_id, Proposal.element_id, Proposal.hidden_at.is_not(None))
    ).all()
    link, item = LINKS["comment"]
    # Grouped by plain columns and tests (no bound values), which PostgreSQL can match.
    grouped = (
        link.tag_id, Proposal.element_id, Comment.element_id, Comment.proposal_id.is_not(None),
        Comment.hidden_at.is_not(None), Proposal.hidden_at.is_not(None),
    )
    comment_counts = db.session.execute(
        select(*grouped, func.count())
        .join(Comment, Comment.id == item)
        .outerjoin(Proposal, Proposal.id == Comment.proposal_id)
        .where(Comment.vision_id == vision.id)
        .group_by(*grouped)
    ).all()
    counted = [(tag_id, element_id, "proposals", bool(is_hidden), n) for tag_id, element_id, is_hidden, n in proposal_counts]
    counted += [
        (tag_id, on_element or own_element, "comments" if is_comment else "reflections", bool(hidden or on_hidden), n)
        for tag_id, on_element, own_element, is_comment, hidden, on_hidden, n in comment_counts
    ]
    return _tabled(tags, key_of, tree, counted)
