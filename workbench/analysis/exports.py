"""The analysts' exports: a vision's proposals, comments and reflections, votes and participants,
row by row, for the files that `analysis/fields.py` describes.

Every table is read in pages of PAGE rows in order of its key (keyset: each page starts where the
last ended, from an index), or, for participants, from one query whose rows are fetched a page at
a time; rows are handed on as they come, so that 100,000 comments stream in constant memory. A row
is a tuple in the order of `Table.columns(scope)`, of plain values (int, str, bool, aware datetime
or None) that `workbench/exports.py` writes as CSV, JSON or XLSX.

What each scope holds (one place, `_visible_*` below):
- public: what anyone can read on the site: no hidden proposal or comment, nothing said on a
  hidden proposal, no vote on one; a retracted comment keeps its row, without its words; nothing
  by someone who chose not to be published (models.published_by), as if hidden (their votes
  are counted: votes are never shown by name);
- facilitators: everything, hidden items marked in `hidden` and `hidden_reason`, retracted
  words included (facilitators read them on the site too).

People appear only as participant ids (`Pseudonyms`): an HMAC of the account's id under the
site's secret key, the same in every file and every download while the key stays the same, from
which nobody can recover the account. No name or email address is ever read here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, null, or_, select, true, union_all
from sqlalchemy.orm import aliased

from .. import permissions
from ..aligned.wording import VisionElements, vision_elements
from ..exceptions import NotAllowed, NotFound, WorkbenchError
from ..coding.codebook import tag_names_in_pages
from ..facilitation.queue import stale_clause
from ..models import Comment, Element, ElementText, Proposal, UTCDateTime, Vision, Vote, db, published_by
from .fields import FACILITATORS, FORMATS, PROPOSAL_STATUSES, PROPOSALS, PUBLIC, TABLES, Table

PAGE = 2_000
# The site builds an Excel file while the person waits only up to this many cells (rows x
# columns): about 4 s on the benchmark machine (bench/exports.py: ~8 us a cell), well inside a
# worker's 30 s. Larger tables: CSV, or `flask analysis export` off the web workers.
XLSX_CELL_LIMIT = 500_000
HIDDEN_PROPOSAL_WORDS = "The proposal it is on is hidden."


class BadExportRequest(WorkbenchError):
    """A filter the files do not have, or a value no row can have: 400, in words."""

    status = 400


@dataclass(frozen=True)
class Export:
    """One file asked for: a table, in a format, in a scope, and (proposals only) a status."""

    table: Table
    format: str
    scope: str
    status: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return self.table.columns(self.scope)

    @property
    def filters(self) -> dict[str, str]:
        return {"status": self.status} if self.status else {}


def parse_export(table_name: str, fmt: str, scope: str, args: Mapping[str, str]) -> Export:
    """The file a request names. Raises NotFound for a table or format that does not exist (in
    this scope), BadExportRequest for a `status` other than the proposals' own, or on another table."""
    table = TABLES.get(table_name)
    if table is None or fmt not in FORMATS.get(scope, ()):
        raise NotFound("There is no such file.")
    status = args.get("status")
    if status is None:
        return Export(table, fmt, scope)
    if table is not PROPOSALS:
        raise BadExportRequest("Only the proposals can be chosen by status: leave status out for this file.")
    if status not in PROPOSAL_STATUSES:
        raise BadExportRequest(f"Choose a status of {', '.join(PROPOSAL_STATUSES)}, or leave it out for every proposal.")
    return Export(table, fmt, scope, status)


def may_export(user: Any, scope: str) -> bool:
    """Anyone may have the public files; the facilitators' files (hidden items too) only those
    `permissions.can_download_hidden_data` allows."""
    return scope == PUBLIC or (scope == FACILITATORS and permissions.can_download_hidden_data(user))


def check_may_export(user: Any, scope: str) -> None:
    if not may_export(user, scope):
        raise NotAllowed("Only facilitators can download the files that include hidden items.")


# --- participant ids ------------------------------------------------------------------------------


class Pseudonyms:
    """Participant ids: `p-` and 16 hex digits of an HMAC-SHA256 of the account id, under a key
    derived from the site's secret key (so the ids change only if that key does)."""

    PURPOSE = b"vision-workbench analysts' exports: participant ids"

    def __init__(self, secret_key: str | bytes):
        raw = secret_key.encode() if isinstance(secret_key, str) else secret_key
        self._key = hmac.new(raw, self.PURPOSE, hashlib.sha256).digest()
        self.of = lru_cache(maxsize=8_192)(self._of)

    def _of(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        return "p-" + hmac.new(self._key, str(int(user_id)).encode(), hashlib.sha256).hexdigest()[:16]


# --- what a scope holds ---------------------------------------------------------------------------


def _visible_proposals(scope: str, proposal: Any = Proposal) -> Any:
    if scope == FACILITATORS:
        return true()
    return and_(proposal.hidden_at.is_(None), published_by(proposal.author_id))


def _visible_comments(scope: str) -> Any:
    """Comments and reflections of the scope; the query joins the comment's proposal (outer)."""
    if scope == FACILITATORS:
        return true()
    return and_(
        Comment.hidden_at.is_(None),
        published_by(Comment.author_id),
        Proposal.hidden_at.is_(None),
        # A reflection has no proposal (NULL NOT IN ... is not true).
        or_(Proposal.id.is_(None), published_by(Proposal.author_id)),
    )


def _standing(vote: Any = Vote) -> Any:
    """A vote that counts now (a cleared vote is kept with value 0)."""
    return vote.value != 0


# --- the tables -----------------------------------------------------------------------------------


@dataclass
class Context:
    """What every row needs besides its own columns: the vision, the elements' keys and labels,
    participant ids, and the pages' addresses (`url_of["proposal"](id)`)."""

    vision_id: int
    elements: VisionElements
    keys: Mapping[int, str]  # every element of the vision, in the working draft or not
    pseudonyms: Pseudonyms
    url_of: Mapping[str, Callable[[int], str]]

    def element(self, element_id: int | None) -> tuple[str, str]:
        """The element's key and label ("Objective 2.3: title"); the label is empty for an
        element that never was in the working draft."""
        if element_id is None:
            return ("", "")
        choice = self.elements.by_id.get(element_id)
        return (self.keys.get(element_id, ""), choice.display if choice else "")


def export_rows(
    vision: Vision,
    export: Export,
    user: Any,
    *,
    secret_key: str | bytes,
    url_of: Mapping[str, Callable[[int], str]],
    bounded: bool = True,
) -> Iterator[tuple[Any, ...]]:
    """The rows of the file `export` names, in its columns' order, read as they are consumed.

    Everything that can refuse happens here, before any row is read (a streamed response cannot
    turn into an error page once it has begun): NotAllowed when `user` may not have that scope;
    TooLargeForExcel for an XLSX file of more than XLSX_CELL_LIMIT cells when `bounded` (a web
    request; the command line is not). `url_of` makes the address of a "proposal" or a "comment"."""
    check_may_export(user, export.scope)
    table = TABLE_QUERIES[export.table.name]
    query = table.query(export, vision.id)
    if bounded and export.format == "xlsx":
        rows = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        if rows * len(export.columns) > XLSX_CELL_LIMIT:
            raise TooLargeForExcel(export, rows)
    keys = dict(db.session.execute(select(Element.id, Element.key).where(Element.vision_id == vision.id)).all())
    context = Context(vision.id, vision_elements(vision), keys, Pseudonyms(secret_key), url_of)
    return table.rows(export, context, query)


class TooLargeForExcel(WorkbenchError):
    """An Excel file too large to build while the person waits (XLSX cannot be streamed)."""

    status = 400

    def __init__(self, export: Export, rows: int):
        super().__init__(
            f"The {export.table.title.lower()} are {rows:,} rows: too many to build as an Excel file while "
            "you wait. Download the CSV file instead (Excel opens it), or ask an administrator for the "
            f"Excel file from the command line (flask analysis export ... {export.table.name} --format xlsx)."
        )


def _pages(query: Select, key: Any) -> Iterator[Any]:
    """Rows of `query` in order of `key` (unique), a page of PAGE at a time, each page from where the
    last ended."""
    after = 0
    while True:
        rows = db.session.execute(query.where(key > after).order_by(key).limit(PAGE)).all()
        yield from rows
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


def _proposal_query(export: Export, vision_id: int) -> Select:
    before, accepted = aliased(ElementText), aliased(ElementText)
    # Stale as the queue has it: open, and its base is not its element's working text.
    stale = case((and_(Proposal.status == "open", stale_clause(vision_id)), True), else_=False)
    query = (
        select(
            Proposal.id, Proposal.element_id, Proposal.kind, Proposal.status, stale, Proposal.accepted_with_changes,
            before.title, before.body, Proposal.title, Proposal.body, accepted.title, accepted.body,
            Proposal.rationale, Proposal.support_count, Proposal.oppose_count, Proposal.comment_count,
            Proposal.revision_count, Proposal.author_id, Proposal.created_at, Proposal.updated_at,
            Proposal.decided_at, Proposal.decided_by_id, Proposal.decision_reason, Proposal.hidden_at,
            Proposal.hidden_reason,
        )
        .join(before, before.id == Proposal.base_text_id)
        .outerjoin(accepted, and_(accepted.id == Proposal.result_text_id, Proposal.status == "accepted"))
        .where(Proposal.vision_id == vision_id, _visible_proposals(export.scope))
    )
    if export.status:
        query = query.where(Proposal.status == export.status)
    return query


def _proposal_rows(export: Export, context: Context, query: Select) -> Iterator[tuple[Any, ...]]:
    rows = _proposal_rows_untagged(export, context, query)
    return tag_names_in_pages("proposal", rows, PAGE) if export.scope == FACILITATORS else rows


def _proposal_rows_untagged(export: Export, context: Context, query: Select) -> Iterator[tuple[Any, ...]]:
    person, url = context.pseudonyms.of, context.url_of["proposal"]
    facilitators = export.scope == FACILITATORS
    for (id_, element_id, kind, status, is_stale, with_changes, title_before, body_before, title_after,
         body_after, title_accepted, body_accepted, rationale, support, oppose, comments, revisions,
         author_id, created_at, updated_at, decided_at, decided_by_id, reason, hidden_at, hidden_reason) in _pages(query, Proposal.id):
        row = (
            id_, url(id_), *context.element(element_id), kind, status, bool(is_stale), bool(with_changes),
            title_before, body_before, title_after, body_after, title_accepted or "", body_accepted or "",
            rationale, support, oppose, comments, revisions, person(author_id), created_at, updated_at,
            decided_at, person(decided_by_id), reason,
        )
        yield row + ((hidden_at is not None, hidden_reason if hidden_at else "") if facilitators else ())


def _comment_query(export: Export, vision_id: int) -> Select:
    return (
        select(
            Comment.id, Comment.parent_id, Comment.proposal_id, Comment.element_id, Proposal.element_id,
            Comment.author_id, Comment.created_at, Comment.edited_at, Comment.retracted_at, Comment.body,
            Comment.hidden_at, Comment.hidden_reason, Proposal.hidden_at,
        )
        .outerjoin(Proposal, Proposal.id == Comment.proposal_id)
        .where(Comment.vision_id == vision_id, _visible_comments(export.scope))
    )


def _comment_rows(export: Export, context: Context, query: Select) -> Iterator[tuple[Any, ...]]:
    rows = _comment_rows_untagged(export, context, query)
    return tag_names_in_pages("comment", rows, PAGE) if export.scope == FACILITATORS else rows


def _comment_rows_untagged(export: Export, context: Context, query: Select) -> Iterator[tuple[Any, ...]]:
    person, url = context.pseudonyms.of, context.url_of["comment"]
    facilitators = export.scope == FACILITATORS
    for (id_, parent_id, proposal_id, element_id, proposal_element_id, author_id, created_at, edited_at,
         retracted_at, body, hidden_at, hidden_reason, proposal_hidden_at) in _pages(query, Comment.id):
        retracted = retracted_at is not None
        row = (
            id_, url(id_), "comment" if proposal_id is not None else "reflection", parent_id, proposal_id,
            *context.element(proposal_element_id if proposal_id is not None else element_id),
            person(author_id), created_at, edited_at, retracted,
            body if facilitators or not retracted else "",
        )
        if facilitators:
            reason = hidden_reason if hidden_at else (HIDDEN_PROPOSAL_WORDS if proposal_hidden_at else "")
            row += (hidden_at is not None or proposal_hidden_at is not None, reason)
        yield row


def _vote_query(export: Export, vision_id: int) -> Select:
    return (
        select(
            Vote.proposal_id,
            Proposal.element_id,
            func.sum(case((Vote.value > 0, 1), else_=0)),
            func.sum(case((Vote.value < 0, 1), else_=0)),
            func.count(Vote.id),
            func.min(Vote.created_at),
            func.max(Vote.updated_at),
            Proposal.hidden_at,
        )
        .join(Proposal, Proposal.id == Vote.proposal_id)
        .where(Proposal.vision_id == vision_id, _visible_proposals(export.scope), _standing())
        .group_by(Vote.proposal_id, Proposal.element_id, Proposal.hidden_at)
    )


def _vote_rows(export: Export, context: Context, query: Select) -> Iterator[tuple[Any, ...]]:
    facilitators = export.scope == FACILITATORS
    for proposal_id, element_id, support, oppose, voters, first_at, last_at, hidden_at in _pages(query, Vote.proposal_id):
        row = (proposal_id, *context.element(element_id), int(support), int(oppose), voters, first_at, last_at)
        yield row + ((hidden_at is not None,) if facilitators else ())


def _participant_query(export: Export, vision_id: int) -> Select:
    """Every contribution the scope's other files count, as (person, kind, first, last), grouped
    per person."""
    scope = export.scope
    is_comment = case((Comment.proposal_id.is_not(None), 1), else_=0)
    contributions = union_all(
        select(
            Proposal.author_id.label("person"), literal(1).label("proposals"), literal(0).label("comments"),
            literal(0).label("reflections"), literal(0).label("votes"),
            Proposal.created_at.label("first_at"), Proposal.created_at.label("last_at"),
        ).where(Proposal.vision_id == vision_id, _visible_proposals(scope)),
        select(
            Comment.author_id, literal(0), is_comment, 1 - is_comment, literal(0), Comment.created_at, Comment.created_at,
        )
        .outerjoin(Proposal, Proposal.id == Comment.proposal_id)
        .where(Comment.vision_id == vision_id, _visible_comments(scope)),
        select(Vote.user_id, literal(0), literal(0), literal(0), literal(1), Vote.created_at, Vote.updated_at)
        .join(Proposal, Proposal.id == Vote.proposal_id)
        .where(Proposal.vision_id == vision_id, _visible_proposals(scope), _standing()),
    ).subquery()
    c = contributions.c
    return (
        select(
            c.person, func.sum(c.proposals), func.sum(c.comments), func.sum(c.reflections), func.sum(c.votes),
            func.min(c.first_at, type_=UTCDateTime()), func.max(c.last_at, type_=UTCDateTime()),
        )
        .where(c.person.is_not(null()))
        .group_by(c.person)
        .order_by(c.person)
    )


def _participant_rows(export: Export, context: Context, query: Select) -> Iterator[tuple[Any, ...]]:
    """One query, its rows fetched PAGE at a time (grouping needs every contribution at once)."""
    person = context.pseudonyms.of
    for person_id, proposals, comments, reflections, votes, first_at, last_at in db.session.execute(
        query, execution_options={"yield_per": PAGE}
    ):
        yield (person(person_id), int(proposals), int(comments), int(reflections), int(votes), first_at, last_at)


@dataclass(frozen=True)
class TableQuery:
    query: Callable[[Export, int], Select]
    rows: Callable[[Export, Context, Select], Iterator[tuple[Any, ...]]]


TABLE_QUERIES = {
    "proposals": TableQuery(_proposal_query, _proposal_rows),
    "comments": TableQuery(_comment_query, _comment_rows),
    "votes": TableQuery(_vote_query, _vote_rows),
    "participants": TableQuery(_participant_query, _participant_rows),
}
