"""Proposals: open, revise and withdraw an edit to one element; find them and how they stand.

State changes take plain values and the acting user, check the permission again, flush and never
commit (the view commits). They raise `ValidationError` with messages per field (`title`, `body`,
`rationale`, or `form` for the form as a whole) and `NotAllowed` when the person may not act.
Revisions are immutable rows: a revision never overwrites another; the Proposal row mirrors the
latest revision so that lists read one row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import diffcache, diffing, permissions
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
    record_event,
    utcnow,
)
from ..pagination import PageNumbers
from ..text_diff import TextDiff
from ..exceptions import ValidationError
from ..validation import clean_text, has_disguising_characters

TITLE_MAX = 200
BODY_MAX = 20_000
RATIONALE_MAX = 5_000
PER_PAGE = 20
# How many other open proposals on the element the proposal page compares with its own.
COMPETING_SHOWN = 20

STATUS_LABELS = {
    ProposalStatus.OPEN.value: "Open",
    ProposalStatus.ACCEPTED.value: "Accepted",
    ProposalStatus.REJECTED.value: "Rejected",
    ProposalStatus.WITHDRAWN.value: "Withdrawn",
}


class NotAllowed(Exception):
    """The acting person may not do this (not the author, not open, window closed...)."""


def status_label(proposal: Proposal) -> str:
    """The status in words: "Open", "Accepted", "Accepted with changes", "Rejected", "Withdrawn"."""
    if proposal.status == ProposalStatus.ACCEPTED.value and proposal.accepted_with_changes:
        return "Accepted with changes"
    return STATUS_LABELS.get(proposal.status, proposal.status.title())


# --- checking what people wrote -------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalText:
    title: str
    body: str
    rationale: str


_FIELD_NAMES = {"title": "title", "body": "proposed text", "rationale": "reason"}


def clean_proposal_text(
    title: str | None, body: str | None, rationale: str | None, *, require_rationale: bool = True
) -> ProposalText:
    """Normalise a proposal's title, body and rationale, or raise ValidationError per field.

    Refuses hidden formatting characters (bidi overrides, zero-width characters) rather than
    silently changing what the person sees; NUL and other control characters are removed. The
    title is one line of at most 200 characters, the body at most 20,000 characters and not
    empty, the rationale at most 5,000 characters and (unless `require_rationale` is False, for
    a preview) not empty.
    """
    raw = {"title": title or "", "body": body or "", "rationale": rationale or ""}
    errors: dict[str, str] = {}
    for name, value in raw.items():
        if has_disguising_characters(value):
            errors[name] = (
                f"Remove the hidden formatting characters (such as right-to-left overrides or "
                f"zero-width spaces) from the {_FIELD_NAMES[name]}"
            )
    cleaned_title = clean_text(raw["title"], multiline=False)
    cleaned_body = clean_text(raw["body"], multiline=True)
    cleaned_rationale = clean_text(raw["rationale"], multiline=True)
    if "title" not in errors and len(cleaned_title) > TITLE_MAX:
        errors["title"] = (
            f"The title must be {TITLE_MAX} characters or fewer (it has {len(cleaned_title):,})"
        )
    if "body" not in errors:
        if not cleaned_body:
            errors["body"] = "Enter the text you propose for this element"
        elif len(cleaned_body) > BODY_MAX:
            errors["body"] = (
                f"The proposed text must be {BODY_MAX:,} characters or fewer "
                f"(it has {len(cleaned_body):,}). Propose a shorter change"
            )
    if "rationale" not in errors:
        if require_rationale and not cleaned_rationale:
            errors["rationale"] = "Explain why you propose this change"
        elif len(cleaned_rationale) > RATIONALE_MAX:
            errors["rationale"] = (
                f"The reason must be {RATIONALE_MAX:,} characters or fewer "
                f"(it has {len(cleaned_rationale):,})"
            )
    if errors:
        raise ValidationError(errors)
    return ProposalText(cleaned_title, cleaned_body, cleaned_rationale)


SAME_AS_CURRENT = "Your proposal is the same as the current text. Change the text before you send it"
SAME_AS_BASE = "Your proposal is the same as the text it is based on. Change the text before you send it"


def _checked_text(
    title: str | None, body: str | None, rationale: str | None, base: ElementText, same_message: str
) -> ProposalText:
    """`clean_proposal_text`, also refusing text equal to `base`; every problem is reported at once."""
    text: ProposalText | None = None
    errors: dict[str, list[str]] = {}
    try:
        text = clean_proposal_text(title, body, rationale)
    except ValidationError as error:
        errors = dict(error.errors)
    unchanged = (clean_text(title, multiline=False), clean_text(body, multiline=True)) == (base.title, base.body)
    if "title" not in errors and "body" not in errors and unchanged:
        errors["body"] = [same_message]
    if errors or text is None:
        raise ValidationError(errors)
    return text


# --- the working draft ----------------------------------------------------------------------------


def changed_ranges(base: ElementText, title: str, body: str) -> dict[str, list[list[int]]]:
    """What a proposed title and body change in their base text, as kept in Proposal.changed_ranges."""
    return {
        name: [[start, end] for start, end in diffing.ranges_of(diffcache.diff(old, new))]
        for name, old, new in (("title", base.title, title), ("body", base.body, body))
    }


def current_entry(element: Element) -> DraftEntry | None:
    """The element's place in the working draft with its current text, or None once removed."""
    return db.session.scalar(
        select(DraftEntry)
        .options(joinedload(DraftEntry.text))
        .where(DraftEntry.element_id == element.id, DraftEntry.is_removed.is_(False))
    )


# --- state changes --------------------------------------------------------------------------------


def open_proposal(
    vision: Vision, element: Element, author: User, title: str, body: str, rationale: str
) -> Proposal:
    """Open a proposal to edit `element`, written against its current working text.

    Creates the Proposal (base text = the draft's current text), its revision 1 and an audit
    event. Raises NotAllowed outside the consultation window or for someone not signed in, and
    ValidationError for bad text or text that changes nothing.
    """
    if not permissions.can_propose(author, vision) or element.vision_id != vision.id:
        raise NotAllowed("proposing is not possible now")
    entry = current_entry(element)
    if entry is None:
        raise ValidationError({"form": "This element has been removed from the working draft, so it cannot be changed"})
    text = _checked_text(title, body, rationale, entry.text, SAME_AS_CURRENT)
    now = utcnow()
    proposal = Proposal(
        vision_id=vision.id,
        element_id=element.id,
        kind="edit",
        author_id=author.id,
        base_text_id=entry.text_id,
        title=text.title,
        body=text.body,
        rationale=text.rationale,
        changed_ranges=changed_ranges(entry.text, text.title, text.body),
        status=ProposalStatus.OPEN.value,
        created_at=now,
        updated_at=now,
        revision_count=1,
    )
    db.session.add(proposal)
    db.session.flush()
    db.session.add(
        ProposalRevision(
            proposal_id=proposal.id,
            number=1,
            base_text_id=entry.text_id,
            title=text.title,
            body=text.body,
            rationale=text.rationale,
            created_at=now,
        )
    )
    record_event(
        "proposal.opened",
        "proposal",
        proposal.id,
        actor=author,
        vision_id=vision.id,
        element=element.key,
        base_text_id=entry.text_id,
    )
    db.session.flush()
    return proposal


def _check_author_may_change(proposal: Proposal, author: User, *, withdrawing: bool = False) -> None:
    if not permissions.is_member(author) or proposal.author_id != author.id:
        raise NotAllowed("only the author can change a proposal")
    if proposal.status != ProposalStatus.OPEN.value:
        raise NotAllowed(f"the proposal is {status_label(proposal).lower()}, no longer open")
    allowed = permissions.can_withdraw_proposal if withdrawing else permissions.can_edit_proposal
    if not allowed(author, proposal):
        raise NotAllowed("the consultation is closed: the proposal can be withdrawn but not edited")


def revise_proposal(
    proposal: Proposal,
    author: User,
    title: str,
    body: str,
    rationale: str,
    *,
    base_text_id: int | None = None,
) -> ProposalRevision:
    """Add the author's new revision to an open proposal; earlier revisions stay as they were.

    `base_text_id` is the text the revision was written against: the proposal's own base (the
    default) or the element's current working text (to bring a stale proposal up to date); any
    other id, or a current text that moved meanwhile, is a ValidationError. Raises NotAllowed for
    anyone but the author and for a proposal that is no longer open, and ValidationError for bad
    text, text equal to its base, or a revision that changes nothing.
    """
    _check_author_may_change(proposal, author)
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
    text = _checked_text(
        title, body, rationale, base, SAME_AS_CURRENT if base_id != proposal.base_text_id else SAME_AS_BASE
    )
    if (text.title, text.body, text.rationale, base_id) == (
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
    proposal.changed_ranges = changed_ranges(base, text.title, text.body)
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
    )
    db.session.flush()
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


def can_see(user: Any, proposal: Proposal) -> bool:
    """Hidden (moderated) proposals are seen only by their author and by facilitators."""
    if proposal.hidden_at is None:
        return True
    return permissions.is_facilitator(user) or (
        permissions.is_member(user) and user.id == proposal.author_id
    )


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


def texts_by_id(ids: set[int]) -> dict[int, ElementText]:
    if not ids:
        return {}
    return {t.id: t for t in db.session.scalars(select(ElementText).where(ElementText.id.in_(ids)))}


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


@dataclass
class Staleness:
    """How an open proposal stands against the element's current working text."""

    stale: bool
    current_title: str = ""
    current_body: str = ""
    current_text_id: int | None = None
    removed: bool = False
    # When stale: the rebase of the proposal onto the current text.
    clean: bool = True
    rebased_title: str | None = None
    rebased_body: str | None = None
    diff: TextDiff | None = None
    conflicts: list[diffing.Conflict] = field(default_factory=list)


def staleness(proposal: Proposal, base: ElementText, current: dict[str, Any] | None) -> Staleness:
    """Whether the element's working text moved past the proposal's base, and the rebase if so.

    `current` is the element's row of the working tree (None once removed from the draft). A
    clean rebase gives the diff current -> rebased; otherwise the conflicting hunks, in words.
    """
    if current is None:
        return Staleness(stale=True, removed=True, clean=False)
    state = Staleness(
        stale=current["text_id"] != base.id,
        current_title=current["title"],
        current_body=current["body"],
        current_text_id=current["text_id"],
    )
    if not state.stale:
        return state
    title = diffing.rebase(base.title, proposal.title, current["title"])
    body = diffing.rebase(base.body, proposal.body, current["body"])
    if title.ok and body.ok:
        state.rebased_title, state.rebased_body = title.text, body.text
        state.diff = TextDiff.between(current["title"], current["body"], title.text, body.text)
    else:
        state.clean = False
        state.conflicts = [*title.conflicts, *body.conflicts]
    return state


def open_proposals_on(
    element: Element, *, exclude: int | None = None, limit: int | None = None
) -> tuple[list[Proposal], int]:
    """Open, visible proposals on the element (newest first, author loaded) and how many there are."""
    where = [
        Proposal.element_id == element.id,
        Proposal.status == ProposalStatus.OPEN.value,
        Proposal.hidden_at.is_(None),
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


@dataclass(frozen=True)
class ProposalFilters:
    status: str = ""  # "" = any status
    element_key: str = ""
    author_id: int | None = None
    sort: str = DEFAULT_SORT


@dataclass
class ProposalPage(PageNumbers):
    proposals: list[Proposal]
    total: int
    page: int
    per_page: int


def list_proposals(vision: Vision, filters: ProposalFilters, page: int, per_page: int = PER_PAGE) -> ProposalPage:
    """One page of the vision's visible proposals, filtered and sorted; two queries.

    Each proposal comes with its author, element and base text loaded (no query per row).
    """
    where = [Proposal.vision_id == vision.id, Proposal.hidden_at.is_(None)]
    if filters.status:
        where.append(Proposal.status == filters.status)
    if filters.element_key:
        where.append(
            Proposal.element_id
            == select(Element.id).where(Element.vision_id == vision.id, Element.key == filters.element_key).scalar_subquery()
        )
    if filters.author_id is not None:
        where.append(Proposal.author_id == filters.author_id)
    # Counted from the proposals alone, so the count reads an index of visible proposals.
    total = db.session.scalar(select(func.count()).select_from(Proposal).where(*where)) or 0
    sort = SORTS.get(filters.sort, SORTS[DEFAULT_SORT])
    proposals = list(
        db.session.scalars(
            select(Proposal)
            .options(
                joinedload(Proposal.element),
                joinedload(Proposal.author),
                joinedload(Proposal.base_text),
            )
            .where(*where)
            .order_by(*sort.order_by)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return ProposalPage(proposals, total, page, per_page)


def first_change(proposal: Proposal) -> diffing.ListedChange | None:
    """A short excerpt of what the proposal changes: its first change to the body (else title)."""
    base = proposal.base_text
    for old, new in ((base.body, proposal.body), (base.title, proposal.title)):
        if old != new:
            items = diffing.change_list(diffcache.diff(old, new), context_words=4)
            if items:
                return items[0]
    return None
