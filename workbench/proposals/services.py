"""Proposals: open, revise and withdraw an edit to one element; find them and how they stand.

State changes take plain values and the acting user, check the permission again, flush and never
commit (the view commits). They raise `ValidationError` with messages per field (`title`, `body`,
`rationale`, or `form` for the form as a whole) and `NotAllowed` when the person may not act, in
words the person reads. What a kind of proposal checks and changes lives in its module (`kinds.py`,
`edit.py`); how a proposal stands against the current working text in `rebase.py`.
Revisions are immutable rows: a revision never overwrites another; the Proposal row mirrors the
latest revision so that lists read one row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import diffcache, diffing, permissions
from ..exceptions import NotAllowed, ValidationError, WrongState
from ..facilitation.kept_flags import keep_flags_of
from ..models import (
    PROPOSAL_CONTESTED,
    PROPOSAL_VOTES,
    DraftEntry,
    Element,
    ElementText,
    Proposal,
    ProposalRevision,
    ProposalStatus,
    User,
    Version,
    Vision,
    db,
    published_by,
    record_event,
    utcnow,
)
from .. import keyset
from ..keyset import KeysetPage, Seek
from ..notifications.following import follow
from ..people_named import written_by_someone_named
from ..visions.services import element_removal
from . import edit
from .kinds import kind_of

PER_PAGE = 20
# How many other open proposals on the element the proposal page compares with its own.
COMPETING_SHOWN = 20

STATUS_LABELS = {
    ProposalStatus.OPEN.value: "Open",
    ProposalStatus.ACCEPTED.value: "Accepted",
    ProposalStatus.REJECTED.value: "Rejected",
    ProposalStatus.WITHDRAWN.value: "Withdrawn",
}


def status_label(proposal: Proposal) -> str:
    """The status in words: "Open", "Accepted", "Accepted with changes", "Rejected", "Withdrawn"."""
    if proposal.status == ProposalStatus.ACCEPTED.value and proposal.accepted_with_changes:
        return "Accepted with changes"
    return STATUS_LABELS.get(proposal.status, proposal.status.title())


# --- the working draft ----------------------------------------------------------------------------


def current_entry(element: Element) -> DraftEntry | None:
    """The element's place in the working draft with its current text, or None once removed."""
    return db.session.scalar(
        select(DraftEntry)
        .options(joinedload(DraftEntry.text))
        .where(DraftEntry.element_id == element.id, DraftEntry.is_removed.is_(False))
    )


# --- state changes --------------------------------------------------------------------------------


def entry_to_propose_on(vision: Vision, element: Element, author: User) -> DraftEntry:
    """The element's entry in the working draft, when `author` may propose on it now. Raises
    NotAllowed outside the consultation window (or for someone not signed in) and WrongState for
    an element removed from the working draft."""
    if not permissions.can_propose(author, vision) or element.vision_id != vision.id:
        raise NotAllowed("You can propose changes to this vision while its consultation is open, once signed in.")
    entry = current_entry(element)
    if entry is None:  # removed from the working draft: it takes no new proposals
        removal = element_removal(vision, element.key)
        raise WrongState(removal.refusal("proposals") if removal else "This element is not in the working draft.")
    return entry


def write_new_proposal(
    vision: Vision, element: Element, author: User, entry: DraftEntry, of_kind: Any, text: edit.ProposalText,
    *, columns: dict[str, Any] | None = None, **event_details: Any,
) -> Proposal:
    """Write a proposal `of_kind` (a kind module) against the entry's current text, for every kind:
    the Proposal (with any further `columns`), its revision 1, its "proposal.opened" audit event
    (with `event_details`) and its author's follow (they may unfollow). The caller checked who may
    propose and the text. Flushes."""
    now = utcnow()
    proposal = Proposal(
        vision_id=vision.id,
        element_id=element.id,
        kind=of_kind.NAME,
        author_id=author.id,
        base_text_id=entry.text_id,
        title=text.title,
        body=text.body,
        rationale=text.rationale,
        changed_ranges=of_kind.changed_ranges(entry.text, text.title, text.body),
        status=ProposalStatus.OPEN.value,
        created_at=now,
        updated_at=now,
        revision_count=1,
        **(columns or {}),
    )
    db.session.add(proposal)
    db.session.flush()
    db.session.add(
        ProposalRevision(
            proposal_id=proposal.id, number=1, base_text_id=entry.text_id, title=text.title, body=text.body,
            rationale=text.rationale, created_at=now,
        )
    )
    record_event(
        "proposal.opened", "proposal", proposal.id, actor=author, vision_id=vision.id,
        element=element.key, base_text_id=entry.text_id, **event_details,
    )
    follow(author, proposal)
    keep_flags_of(proposal)  # the queue's competing pairs and rebase, in this transaction
    return proposal


def open_proposal(
    vision: Vision, element: Element, author: User, title: str, body: str, rationale: str
) -> Proposal:
    """Open a proposal to edit `element`, written against its current working text.

    Creates the Proposal (base text = the draft's current text), its revision 1 and an audit
    event. Raises NotAllowed outside the consultation window or for someone not signed in,
    WrongState for an element removed from the working draft, and ValidationError for bad text or
    text that changes nothing.
    """
    entry = entry_to_propose_on(vision, element, author)
    text = edit.checked_text(title, body, rationale, entry.text, against_current=True)
    return write_new_proposal(vision, element, author, entry, edit, text)


def _check_author_may_change(proposal: Proposal, author: User, *, withdrawing: bool = False) -> None:
    if not permissions.is_member(author) or proposal.author_id != author.id:
        raise NotAllowed("Only the author of a proposal can change or withdraw it.")
    if proposal.status != ProposalStatus.OPEN.value:
        raise NotAllowed(f"This proposal is {status_label(proposal).lower()}, so it can no longer be changed.")
    allowed = permissions.can_withdraw_proposal if withdrawing else permissions.can_edit_proposal
    if not allowed(author, proposal):
        raise NotAllowed("The consultation is closed: you can still withdraw your proposal, but not change it.")


def revise_proposal(
    proposal: Proposal,
    author: User,
    title: str,
    body: str,
    rationale: str,
    *,
    base_text_id: int | None = None,
    moved: bool = False,
    details: dict[str, Any] | None = None,
) -> ProposalRevision:
    """Add the author's new revision to an open proposal; earlier revisions stay as they were.

    `base_text_id` is the text the revision was written against: the proposal's own base (the
    default) or the element's current working text (to bring a stale proposal up to date); any
    other id, or a current text that moved meanwhile, is a ValidationError. Raises NotAllowed for
    anyone but the author and for a proposal that is no longer open, and ValidationError for bad
    text, text equal to its base, or a revision that changes nothing; WrongState for a proposal
    of a kind this code does not know. `moved`: the caller changed where a move proposal would put
    its element (`structural.revise_move`), a change even when the words are the same; `details`
    go into the audit event.
    """
    _check_author_may_change(proposal, author)
    kind = kind_of(proposal)
    base_id = proposal.base_text_id if base_text_id is None else base_text_id
    if base_id == proposal.base_text_id:
        base = db.session.get(ElementText, base_id)
    else:
        entry = db.session.scalar(
            select(DraftEntry).where(
                DraftEntry.element_id == proposal.element_id, DraftEntry.is_removed.is_(False)
            )
        )
        if entry is None or entry.text_id != base_id:
            raise ValidationError(
                {"form": "The element's text changed while you were editing. Reload the page to see the newest text, then try again"}
            )
        base = entry.text
    text = kind.checked_text(title, body, rationale, base, against_current=base_id != proposal.base_text_id)
    if not moved and (text.title, text.body, text.rationale, base_id) == (
        proposal.title,
        proposal.body,
        proposal.rationale,
        proposal.base_text_id,
    ):
        raise ValidationError({"form": "You have not changed anything, so there is no new revision to save"})
    now = utcnow()
    number = proposal.revision_count + 1
    revision = ProposalRevision(
        proposal_id=proposal.id,
        number=number,
        base_text_id=base_id,
        title=text.title,
        body=text.body,
        rationale=text.rationale,
        created_at=now,
    )
    db.session.add(revision)
    proposal.title, proposal.body, proposal.rationale = text.title, text.body, text.rationale
    proposal.base_text_id = base_id
    proposal.changed_ranges = kind.changed_ranges(base, text.title, text.body)
    proposal.revision_count = number
    proposal.updated_at = now
    record_event(
        "proposal.revised",
        "proposal",
        proposal.id,
        actor=author,
        vision_id=proposal.vision_id,
        revision=number,
        base_text_id=base_id,
        **(details or {}),
    )
    keep_flags_of(proposal)  # the queue's competing pairs and rebase, in this transaction
    return revision


def withdraw_proposal(proposal: Proposal, author: User) -> Proposal:
    """The author withdraws their open proposal: its status becomes withdrawn; nothing is deleted.

    Raises NotAllowed for anyone but the author and for a proposal that is no longer open.
    """
    _check_author_may_change(proposal, author, withdrawing=True)
    proposal.status = ProposalStatus.WITHDRAWN.value
    proposal.updated_at = utcnow()
    record_event(
        "proposal.withdrawn", "proposal", proposal.id, actor=author, vision_id=proposal.vision_id
    )
    db.session.flush()
    return proposal


# --- reading --------------------------------------------------------------------------------------


def load_proposal(proposal_id: int, *, for_update: bool = False, details: bool = True) -> Proposal | None:
    """The proposal with its vision, element, author and base text, in one query (with
    `details=False` its vision only: enough for a vote, the busiest write).

    `for_update` locks the row on PostgreSQL (SQLite write requests already hold the write lock).
    """
    related = (Proposal.vision, Proposal.element, Proposal.author, Proposal.base_text) if details else (Proposal.vision,)
    query = select(Proposal).options(*(joinedload(r) for r in related)).where(Proposal.id == proposal_id)
    if for_update:
        query = query.with_for_update(of=Proposal).execution_options(populate_existing=True)
    return db.session.scalar(query)


def revisions(proposal: Proposal) -> Sequence[ProposalRevision]:
    """Every revision, oldest first.

    A proposal stored without revision rows (written straight into the database, e.g. by an
    import) reads as one revision made of the proposal row itself; that stand-in is never saved.
    """
    found = db.session.scalars(
        select(ProposalRevision)
        .where(ProposalRevision.proposal_id == proposal.id)
        .order_by(ProposalRevision.number)
    ).all()
    if found:
        return found
    return [
        ProposalRevision(
            proposal_id=proposal.id,
            number=1,
            base_text_id=proposal.base_text_id,
            title=proposal.title,
            body=proposal.body,
            rationale=proposal.rationale,
            created_at=proposal.created_at,
        )
    ]


@dataclass(frozen=True)
class BasedOn:
    """What a proposal was written against: a published version, or the working draft of a date."""

    version_number: int | None
    date: datetime


def based_on(proposal: Proposal, base: ElementText) -> BasedOn:
    """The newest published version whose snapshot holds the base text for this element.

    One query: snapshots are canonical JSON with sorted keys, so an element's `"text_id":N` is
    always followed by `,"title"`; the match is confirmed on the parsed snapshot.
    """
    row = db.session.execute(
        select(Version.number, Version.snapshot)
        .where(
            Version.vision_id == proposal.vision_id,
            Version.snapshot.contains(f'"text_id":{base.id},', autoescape=True),
        )
        .order_by(Version.number.desc())
        .limit(1)
    ).first()
    if row is not None:
        elements = json.loads(row.snapshot)["elements"]
        if any(e["key"] == proposal.element.key and e["text_id"] == base.id for e in elements):
            return BasedOn(row.number, base.created_at)
    return BasedOn(None, base.created_at)


def open_proposals_on(
    element: Element, *, exclude: int | None = None, limit: int | None = None
) -> tuple[list[Proposal], int]:
    """Open, visible proposals on the element (newest first, author loaded) and how many there are;
    visible to everyone: neither hidden nor by someone who chose not to be published."""
    where = [
        Proposal.element_id == element.id,
        Proposal.status == ProposalStatus.OPEN.value,
        Proposal.hidden_at.is_(None),
        published_by(Proposal.author_id),
    ]
    if exclude is not None:
        where.append(Proposal.id != exclude)
    query = (
        select(Proposal)
        .options(joinedload(Proposal.author))
        .where(*where)
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
    )
    if limit is None:
        found = list(db.session.scalars(query))
        return found, len(found)
    # The total rides along as a window count, so the list and its size are one query.
    rows = db.session.execute(query.add_columns(func.count().over()).limit(limit)).all()
    return [row[0] for row in rows], (rows[0][1] if rows else 0)


@dataclass(frozen=True)
class Neighbour:
    proposal: Proposal
    competes: bool | None  # None: written against another text, so not comparable word by word


def neighbours(proposal: Proposal) -> tuple[list[Neighbour], int]:
    """Other open proposals on the element, each marked whether it competes with this one.

    Two proposals on the same base compete when they change overlapping words
    (`diffing.fields_compete` on their stored changed ranges); proposals on another base are listed
    without that judgement. At most COMPETING_SHOWN are compared; the total is returned too.
    """
    others, total = open_proposals_on(proposal.element, exclude=proposal.id, limit=COMPETING_SHOWN)
    found = []
    for other in others:
        competes = None
        if other.base_text_id == proposal.base_text_id:
            competes = diffing.fields_compete(proposal.changed_ranges, other.changed_ranges)
        found.append(Neighbour(other, competes))
    return found, total


# --- the list of proposals ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sort:
    label: str
    order_by: tuple[Any, ...]


# The one place sorts are named: a request's `sort` must be a key here. The tally sorts read the
# counts that votes and comments keep on the proposal, and each sort has a partial index of visible
# proposals with the same columns (see PROPOSAL_CONTESTED in models.py).
MOST_SUPPORTED = (Proposal.support_count.desc(), Proposal.created_at.desc(), Proposal.id.desc())
MOST_CONTESTED = (
    PROPOSAL_CONTESTED.desc(),
    PROPOSAL_VOTES.desc(),
    Proposal.created_at.desc(),
    Proposal.id.desc(),
)
MOST_DISCUSSED = (Proposal.comment_count.desc(), Proposal.created_at.desc(), Proposal.id.desc())

SORTS: dict[str, Sort] = {
    "newest": Sort("Newest first", (Proposal.created_at.desc(), Proposal.id.desc())),
    "oldest": Sort("Oldest first", (Proposal.created_at.asc(), Proposal.id.asc())),
    "supported": Sort("Most supported", MOST_SUPPORTED),
    "contested": Sort("Most contested", MOST_CONTESTED),
    "discussed": Sort("Most discussed", MOST_DISCUSSED),
}
DEFAULT_SORT = "newest"


# A display name is at most 80 characters (User.display_name); a longer search is cut to that.
AUTHOR_NAME_LENGTH = 80


@dataclass(frozen=True)
class ProposalFilters:
    status: str = ""  # "" = any status
    element_key: str = ""
    author_id: int | None = None
    author_name: str = ""  # all or part of an author's display name, any case; "" = anyone
    sort: str = DEFAULT_SORT


def clean_author_name(raw: str | None) -> str:
    """What was typed in "Proposed by", as searched: printable characters only (no NUL, which
    PostgreSQL refuses), spaces collapsed, at most AUTHOR_NAME_LENGTH characters; "" for nothing."""
    printable = "".join(c if c.isprintable() else " " for c in (raw or ""))
    return " ".join(printable.split())[:AUTHOR_NAME_LENGTH].strip()


def list_proposals(vision: Vision, filters: ProposalFilters, seek: Seek = Seek(), per_page: int = PER_PAGE) -> KeysetPage:
    """The page `seek` asks for of the vision's public proposals (neither hidden nor by someone who
    chose not to be published), filtered and sorted (rows are Proposals); at most four queries,
    each reading at most one page of rows from an index however deep the page (keyset.seek_page),
    and a count.

    `filters.author_name` keeps proposals whose author's display name contains it, in any case
    (ASCII letters only on SQLite, whose lower() folds nothing else).

    Each proposal comes with its author, element and base text loaded (no query per row).
    """
    where = [Proposal.vision_id == vision.id, Proposal.hidden_at.is_(None), published_by(Proposal.author_id)]
    if filters.status:
        where.append(Proposal.status == filters.status)
    if filters.element_key:
        where.append(
            Proposal.element_id
            == select(Element.id).where(Element.vision_id == vision.id, Element.key == filters.element_key).scalar_subquery()
        )
    if filters.author_id is not None:
        where.append(Proposal.author_id == filters.author_id)
    named = written_by_someone_named(filters.author_name) if filters.author_name else None
    if named is not None:
        where.append(named.condition)
    # Counted from the proposals alone, so the count reads an index of visible proposals.
    total = db.session.scalar(select(func.count()).select_from(Proposal).where(*where)) or 0
    order_by = SORTS.get(filters.sort, SORTS[DEFAULT_SORT]).order_by
    found = keyset.seek_page(
        select(Proposal)
        .options(joinedload(Proposal.element), joinedload(Proposal.author), joinedload(Proposal.base_text))
        .where(*where),
        order_by,
        seek,
        per_page,
        total=total,
        values=lambda proposal_id: keyset.values_of(order_by, Proposal.id, proposal_id, Proposal.vision_id == vision.id),
        row_id=lambda row: row[0].id,
    )
    found.rows = [row[0] for row in found.rows]
    if named is not None and named.note:
        found.notes.append(named.note)
    return found


@dataclass(frozen=True)
class Excerpt:
    """What a list shows of a proposal: its first change, in context, and how many more it makes."""

    change: diffing.ListedChange
    more: int


def excerpt(proposal: Proposal) -> Excerpt | None:
    """The proposal's first change to its body (else its title), with a few words around it, and the
    number of its other changes (title and body); None when it changes nothing. No query: the
    proposal's base text is loaded with it (`list_proposals`)."""
    base = proposal.base_text
    found = [
        item
        for old, new in ((base.body, proposal.body), (base.title, proposal.title))
        if old != new
        for item in diffing.change_list(diffcache.diff(old, new), context_words=4)
    ]
    return Excerpt(found[0], len(found) - 1) if found else None
