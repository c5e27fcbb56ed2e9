"""The facilitators' list of comments and reflections, to read and code them: newest first, keyset
paged, filtered by kind, element, tag or "carries no tag", hidden ones included and marked. A fixed
number of queries per page, whatever the size of the discussion. No Flask."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..keyset import KeysetPage, Seek, seek_page, values_of
from ..models import Comment, Element, Proposal, Vision, db
from ..numbers import whole_number
from .clauses import tagged_ids, untagged_clause
from .codebook import tags_on

PER_PAGE = 50
# The list says how many responses match up to this many ("more than 1,000" beyond): counting every
# match of a broad filter over 100,000 comments would cost more than the page itself.
COUNT_CAP = 1_000
ORDER = (Comment.id.desc(),)
KINDS = {"comment": "Comments on proposals", "reflection": "Reflections on the vision"}


@dataclass(frozen=True)
class ResponseFilters:
    kind: str = ""  # "", "comment" or "reflection"
    element_key: str = ""  # reflections on it, and comments on proposals to change it
    tag: str = ""  # a tag's id
    untagged: bool = False  # only those that carry no tag

    @classmethod
    def parse(cls, args: Mapping[str, str], element_keys: Container[str]) -> ResponseFilters:
        """The filters a request names (`kind`, `element`, `tag`, `untagged=1`); anything unknown is
        left out, as the other lists do."""
        kind, element = args.get("kind", ""), args.get("element", "")
        untagged = args.get("untagged") == "1"
        return cls(
            kind=kind if kind in KINDS else "",
            element_key=element if element in element_keys else "",
            tag="" if untagged else str(whole_number(args.get("tag")) or ""),
            untagged=untagged,
        )

    @property
    def filtered(self) -> bool:
        return bool(self.kind or self.element_key or self.tag or self.untagged)

    def link_args(self) -> dict[str, str]:
        named = (("kind", self.kind), ("element", self.element_key), ("tag", self.tag), ("untagged", "1" if self.untagged else ""))
        return {name: value for name, value in named if value}


@dataclass
class ResponseRow:
    comment: Comment
    element_id: int | None  # what it is about: the reflection's element, or the proposal's
    tags: list[Any]


def responses_page(vision: Vision, filters: ResponseFilters, seek: Seek) -> tuple[KeysetPage, dict[int, str]]:
    """The page `seek` asks for, its rows ResponseRow (with authors and tags), and {element id: key}
    of the vision. `total` is capped at COUNT_CAP + 1."""
    where = [Comment.vision_id == vision.id]
    if filters.kind:
        # Through coalesce, so that SQLite reads the list newest first by id, stopping after a page,
        # rather than every reflection from the proposal_id index and then sorting them all.
        on_proposal = func.coalesce(Comment.proposal_id, 0)
        where.append(on_proposal == 0 if filters.kind == "reflection" else on_proposal != 0)
    if filters.element_key:
        element = select(Element.id).where(Element.vision_id == vision.id, Element.key == filters.element_key).scalar_subquery()
        on_it = select(Proposal.id).where(Proposal.element_id == element)
        where.append(or_(Comment.element_id == element, Comment.proposal_id.in_(on_it)))
    if filters.tag:
        where.append(tagged_ids(int(filters.tag), "comment"))
    if filters.untagged:
        where.append(untagged_clause("comment"))
    matching = select(Comment.id).where(*where).limit(COUNT_CAP + 1).subquery()
    total = db.session.scalar(select(func.count()).select_from(matching)) or 0
    query = (
        select(Comment, Proposal.element_id)
        .outerjoin(Proposal, Proposal.id == Comment.proposal_id)
        .options(joinedload(Comment.author))
        .where(*where)
    )
    page = seek_page(
        query, ORDER, seek, PER_PAGE, total=total,
        values=lambda row_id: values_of(ORDER, Comment.id, row_id, Comment.vision_id == vision.id),
        row_id=lambda row: row[0].id,
    )
    tags = tags_on("comment", page.ids)
    page.rows = [ResponseRow(comment, proposal_element or comment.element_id, tags.get(comment.id, [])) for comment, proposal_element in page.rows]
    keys = dict(db.session.execute(select(Element.id, Element.key).where(Element.vision_id == vision.id)).all())
    return page, keys
