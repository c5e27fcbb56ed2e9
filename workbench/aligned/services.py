"""Aligned work: rules for submitting, screening and listing organisations' initiatives.

Screening before anything is public
-----------------------------------
An initiative's *approved* wording lives in the plain columns of `AlignedWork` and in its
`AlignedWorkElement` rows; only that wording is ever public. What the submitter sent and a
facilitator has not yet approved lives in the JSON column `pending`:

    {"organisation": str, "title": str, "description": str,
     "status": "planned" | "current" | "completed",
     "link": str,            # "" or a normalised http(s) URL
     "contact": str,         # "" or an e-mail address or phone number; never public
     "element_ids": [int],   # ambitions, objectives or enabling conditions of the vision, sorted
     "submitted_at": str}    # ISO 8601 UTC with microseconds: identifies this wording, so that a
                             # facilitator only decides on the wording they saw

What the submitter sees follows from `state`, `pending` and `screening_reason`:

| state    | pending | screening_reason | in words                                   |
| -------- | ------- | ---------------- | ------------------------------------------ |
| pending  | set     | ""               | Waiting for screening                      |
| rejected | set     | the reason       | Not published: <reason>                    |
| approved | None    | ""               | Published                                  |
| approved | set     | ""               | Changes waiting for screening              |
| approved | set     | the reason       | Published; changes not accepted: <reason>  |

So "waiting for a facilitator" is exactly: `pending` is set and `screening_reason` is empty. A
rejected wording is kept in `pending` so that its submitter can correct it and send it again.

Contact details never leave this module in anything public: the register, its exports and the
audit events are built from explicit column lists that leave `contact` out.

Services take plain values and the acting user, flush but never commit, raise `ValidationError`
(per-field messages) for bad input and `NotAllowed` when the user may not act.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import Text, and_, cast, delete, func, select
from sqlalchemy.orm import aliased

from .. import permissions
from ..models import (
    AlignedWork,
    AlignedWorkElement,
    DraftEntry,
    Element,
    ElementText,
    User,
    Vision,
    db,
    record_event,
    utcnow,
)
from ..exceptions import ValidationError
from ..validation import clean_text, has_disguising_characters
from ..visions import snapshots

STATUSES: dict[str, str] = {"planned": "Planned", "current": "Current", "completed": "Completed"}
SELECTABLE_KINDS = ("ambition", "objective", "condition")

ORGANISATION_MAX = 200
TITLE_MAX = 200
DESCRIPTION_MAX = 5_000
LINK_MAX = 500
CONTACT_MAX = 254
REASON_MAX = 2_000
PAGE_SIZE = 20




class NotAllowed(PermissionError):
    """The acting user may not do this (the views check first; this is the second line)."""


# --- the elements an initiative can support --------------------------------------------------------


@dataclass(frozen=True)
class ElementChoice:
    """An element as the aligned-work pages name it: "Objective 2.3: Open by default"."""

    id: int
    key: str
    kind: str
    label: str
    title: str
    ambition_id: int | None  # for objectives and conditions: their ambition
    in_draft: bool

    @property
    def display(self) -> str:
        return f"{self.label}: {self.title}" if self.title else self.label


@dataclass
class AmbitionGroup:
    ambition: ElementChoice
    children: list[ElementChoice] = field(default_factory=list)


@dataclass
class VisionElements:
    """The ambitions, objectives and enabling conditions of a vision, numbered as in the working draft."""

    groups: list[AmbitionGroup]
    by_id: dict[int, ElementChoice]

    @cached_property
    def by_key(self) -> dict[str, ElementChoice]:
        return {choice.key: choice for choice in self.by_id.values()}

    @cached_property
    def _position(self) -> dict[int, int]:
        return {choice.id: n for n, choice in enumerate(self.in_document_order())}

    def selectable_ids(self) -> set[int]:
        return {c.id for c in self.by_id.values() if c.in_draft and c.kind in SELECTABLE_KINDS}

    def family_ids(self, choice: ElementChoice) -> list[int]:
        """The element and, for an ambition, its objectives and enabling conditions."""
        if choice.kind != "ambition":
            return [choice.id]
        return [choice.id] + [c.id for c in self.by_id.values() if c.ambition_id == choice.id]

    def describe(self, element_ids: Iterable[int]) -> list[ElementChoice]:
        """Choices for ids, in document order; unknown ids are left out."""
        position = self._position
        found = [self.by_id[i] for i in set(element_ids) if i in self.by_id]
        return sorted(found, key=lambda c: position[c.id])

    def in_document_order(self) -> list[ElementChoice]:
        ordered: list[ElementChoice] = []
        for group in self.groups:
            ordered.append(group.ambition)
            ordered.extend(group.children)
        seen = {c.id for c in ordered}
        ordered.extend(sorted((c for c in self.by_id.values() if c.id not in seen), key=lambda c: c.key))
        return ordered


def vision_elements(vision: Vision) -> VisionElements:
    """Every element of the vision with its working-draft label; one query, titles only (no bodies).

    Elements removed from the working draft keep a plain label ("Objective (removed from the
    draft)") so that an initiative approved earlier still names them.
    """
    parent = aliased(Element)
    rows = db.session.execute(
        select(
            Element.id,
            Element.key,
            Element.kind,
            DraftEntry.parent_element_id,
            parent.key,
            DraftEntry.position,
            ElementText.title,
            DraftEntry.is_removed,
        )
        .join(DraftEntry, DraftEntry.element_id == Element.id)
        .join(ElementText, ElementText.id == DraftEntry.text_id)
        .outerjoin(parent, parent.id == DraftEntry.parent_element_id)
        .where(Element.vision_id == vision.id)
    ).all()
    ids = {row[1]: row[0] for row in rows}
    parents = {row[0]: row[3] for row in rows}
    live = [
        snapshots.TreeRow(key, kind, parent_key, position, title or "", "", 0)
        for _id, key, kind, _parent_id, parent_key, position, title, removed in rows
        if not removed
    ]
    numbered = snapshots.number_tree(live)
    by_id: dict[int, ElementChoice] = {}
    groups: list[AmbitionGroup] = []
    group_of: dict[int, AmbitionGroup] = {}
    for item in numbered:
        element_id = ids[item["key"]]
        parent_id = parents[element_id]
        choice = ElementChoice(
            id=element_id,
            key=item["key"],
            kind=item["kind"],
            label=item["label"],
            title=item["title"],
            ambition_id=parent_id if item["kind"] in ("objective", "condition") else None,
            in_draft=True,
        )
        by_id[element_id] = choice
        if choice.kind == "ambition" and parent_id is None:
            group = AmbitionGroup(choice)
            groups.append(group)
            group_of[element_id] = group
        elif choice.kind in ("objective", "condition") and parent_id in group_of:
            group_of[parent_id].children.append(choice)
    for element_id, key, kind, parent_id, _parent_key, _position, title, _removed in rows:
        if element_id not in by_id:
            by_id[element_id] = ElementChoice(
                id=element_id,
                key=key,
                kind=kind,
                label=f"{snapshots.KIND_NAMES[kind]} (removed from the draft)",
                title=title or "",
                ambition_id=parent_id if kind in ("objective", "condition") else None,
                in_draft=False,
            )
    return VisionElements(groups=groups, by_id=by_id)


# --- checking what people send ---------------------------------------------------------------------


@dataclass(frozen=True)
class Wording:
    """One complete wording of an initiative, already checked and normalised."""

    organisation: str
    title: str
    description: str
    status: str
    link: str
    contact: str
    element_ids: tuple[int, ...]

    def as_pending(self, submitted_at: datetime) -> dict[str, Any]:
        return {
            "organisation": self.organisation,
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "link": self.link,
            "contact": self.contact,
            "element_ids": list(self.element_ids),
            "submitted_at": submitted_at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        }

    @classmethod
    def from_pending(cls, pending: dict[str, Any]) -> Wording:
        return cls(
            organisation=pending.get("organisation", ""),
            title=pending.get("title", ""),
            description=pending.get("description", ""),
            status=pending.get("status", "planned"),
            link=pending.get("link", ""),
            contact=pending.get("contact", ""),
            element_ids=tuple(sorted(int(i) for i in pending.get("element_ids", []))),
        )


def _text(
    value: Any, name: str, what: str, errors: dict[str, str], *, multiline: bool, required: bool, limit: int
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = f"{what} must be text"
        return ""
    if "\x00" in value:
        errors[name] = f"{what} contains a NUL character, which cannot be stored. Remove it and try again"
        return ""
    if has_disguising_characters(value):
        errors[name] = (
            f"{what} contains invisible or direction-changing characters. Remove them and try again"
        )
        return ""
    text = clean_text(value, multiline=multiline)
    if required and not text:
        errors[name] = f"Enter the {what.lower()}"
    elif len(text) > limit:
        errors[name] = f"{what} must be {limit:,} characters or fewer (it is {len(text):,})"
    return text


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LINK_EXPECTED = "Enter a web address that starts with https:// or http://, like https://www.example.org"


def normalise_link(raw: str) -> str:
    """An http(s) web address, normalised; "" when empty. Raises ValueError with a message for people.

    Refused: any other scheme (`javascript:`, `data:`, `vbscript:`, in any letter case),
    scheme-relative `//host`, relative paths, user names or passwords in the address, spaces,
    control or invisible characters, backslashes, hosts that are not domain names, more than
    LINK_MAX characters. Normalised: scheme and host in lower case (IDNA for non-ASCII hosts), the
    default port dropped, "/" for an empty path, non-ASCII characters percent-encoded. A bare
    "www.example.org/page" gets "https://" in front.
    """
    value = (raw or "").strip()
    if not value:
        return ""
    if len(value) > LINK_MAX:
        raise ValueError(f"The link must be {LINK_MAX} characters or fewer")
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") for ch in value):
        raise ValueError("The link must not contain spaces or invisible characters")
    if "\\" in value:
        raise ValueError("The link must not contain a backslash (\\)")
    scheme_match = _SCHEME.match(value)
    if scheme_match:
        if scheme_match.group(1).lower() not in ("http", "https") or not value[scheme_match.end():].startswith("//"):
            raise ValueError(_LINK_EXPECTED)
    elif value.startswith("/"):
        raise ValueError(_LINK_EXPECTED)
    else:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(_LINK_EXPECTED) from None
    if "@" in parts.netloc:
        raise ValueError("The link must not contain a user name or password")
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(_LINK_EXPECTED) from None
    labels = host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(_LINK_EXPECTED)
    scheme = parts.scheme.lower()
    netloc = host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc = f"{host}:{port}"
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~") or "/"
    query = quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    fragment = quote(parts.fragment, safe="/%:@!$&'()*+,;=-._~?")
    normalised = urlunsplit((scheme, netloc, path, query, fragment))
    if len(normalised) > LINK_MAX:
        raise ValueError(f"The link must be {LINK_MAX} characters or fewer")
    return normalised


_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_PHONE = re.compile(r"^\+?[0-9()\- ]+$")


def normalise_contact(raw: str) -> str:
    """An e-mail address (domain in lower case) or a phone number; "" when empty.

    Raises ValueError with a message for people.
    """
    value = " ".join((raw or "").split())
    if not value:
        return ""
    if len(value) > CONTACT_MAX:
        raise ValueError(f"The contact must be {CONTACT_MAX} characters or fewer")
    if "@" in value:
        if not _EMAIL.match(value):
            raise ValueError("Enter an e-mail address in the right format, like name@example.org")
        local, domain = value.rsplit("@", 1)
        return f"{local}@{domain.lower()}"
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE.match(value) or not 7 <= digits <= 15:
        raise ValueError(
            "Enter an e-mail address, like name@example.org, or a phone number, like 0131 123 4567"
        )
    return value


def _element_ids(raw: Iterable[Any] | None, elements: VisionElements, errors: dict[str, str]) -> tuple[int, ...]:
    allowed = elements.selectable_ids()
    chosen: set[int] = set()
    for item in raw or ():
        text = str(item).strip()
        if not re.fullmatch(r"[1-9][0-9]{0,8}", text) or int(text) not in allowed:
            errors["element_ids"] = (
                "Choose only from the ambitions, objectives and enabling conditions listed: "
                "one of your choices is not part of this vision"
            )
            return ()
        chosen.add(int(text))
    if not chosen:
        errors["element_ids"] = "Choose at least one ambition, objective or enabling condition that the initiative supports"
    return tuple(sorted(chosen))


def check_wording(
    vision: Vision,
    *,
    organisation: Any,
    title: Any,
    description: Any,
    status: Any,
    link: Any,
    contact: Any,
    element_ids: Iterable[Any] | None,
    elements: VisionElements | None = None,
) -> Wording:
    """Check and normalise a submitted wording; raise ValidationError naming every bad field."""
    errors: dict[str, str] = {}
    wording_organisation = _text(
        organisation, "organisation", "Organisation name", errors, multiline=False, required=True, limit=ORGANISATION_MAX
    )
    wording_title = _text(title, "title", "Title", errors, multiline=False, required=True, limit=TITLE_MAX)
    wording_description = _text(
        description, "description", "Description", errors, multiline=True, required=True, limit=DESCRIPTION_MAX
    )
    if status not in STATUSES:
        errors["status"] = "Choose whether the initiative is planned, current or completed"
    wording_link = ""
    if link is not None and not isinstance(link, str):
        errors["link"] = _LINK_EXPECTED
    else:
        try:
            wording_link = normalise_link(link or "")
        except ValueError as exc:
            errors["link"] = str(exc)
    wording_contact = ""
    if contact is not None and not isinstance(contact, str):
        errors["contact"] = "Enter an e-mail address or a phone number"
    elif contact and (("\x00" in contact) or has_disguising_characters(contact)):
        errors["contact"] = "The contact contains invisible or unusual characters. Remove them and try again"
    else:
        try:
            wording_contact = normalise_contact(contact or "")
        except ValueError as exc:
            errors["contact"] = str(exc)
    chosen = _element_ids(element_ids, elements or vision_elements(vision), errors)
    if errors:
        raise ValidationError(errors)
    return Wording(
        organisation=wording_organisation,
        title=wording_title,
        description=wording_description,
        status=str(status),
        link=wording_link,
        contact=wording_contact,
        element_ids=chosen,
    )


# --- screening state --------------------------------------------------------------------------------


def is_waiting(work: AlignedWork) -> bool:
    """A wording waits for a facilitator's decision."""
    return work.pending is not None and not work.screening_reason


@dataclass(frozen=True)
class ScreeningState:
    code: str  # waiting, published, changes-waiting, not-published, changes-not-accepted
    words: str
    tag: str  # the app-status modifier that colours the tag (the words carry the meaning)


def screening_state(work: AlignedWork) -> ScreeningState:
    """Where the initiative stands, in the submitter's words."""
    if work.state == "approved":
        if work.pending is None:
            return ScreeningState("published", "Published", "published")
        if not work.screening_reason:
            return ScreeningState("changes-waiting", "Changes waiting for screening", "open")
        return ScreeningState(
            "changes-not-accepted", f"Published; changes not accepted: {work.screening_reason}", "stale"
        )
    if work.state == "rejected":
        return ScreeningState("not-published", f"Not published: {work.screening_reason}", "rejected")
    return ScreeningState("waiting", "Waiting for screening", "open")


def _waiting_clause():
    # A cleared `pending` is stored as JSON null, not SQL NULL: compare its text on both databases.
    return and_(
        AlignedWork.pending.isnot(None),
        cast(AlignedWork.pending, Text) != "null",
        AlignedWork.screening_reason == "",
    )


def approved_element_ids(work: AlignedWork) -> list[int]:
    return list(
        db.session.scalars(
            select(AlignedWorkElement.element_id)
            .where(AlignedWorkElement.aligned_work_id == work.id)
            .order_by(AlignedWorkElement.element_id)
        )
    )


def approved_wording(work: AlignedWork) -> Wording | None:
    if work.state != "approved":
        return None
    return Wording(
        organisation=work.organisation,
        title=work.title,
        description=work.description,
        status=work.status,
        link=work.link,
        contact=work.contact,
        element_ids=tuple(approved_element_ids(work)),
    )


def approved_wordings(works: Sequence[AlignedWork]) -> dict[int, Wording]:
    """Approved wordings of several initiatives by id (the approved ones only); one query."""
    approved = [work for work in works if work.state == "approved"]
    links: dict[int, list[int]] = {work.id: [] for work in approved}
    if approved:
        for work_id, element_id in db.session.execute(
            select(AlignedWorkElement.aligned_work_id, AlignedWorkElement.element_id).where(
                AlignedWorkElement.aligned_work_id.in_(list(links))
            )
        ):
            links[work_id].append(element_id)
    return {
        work.id: Wording(
            organisation=work.organisation,
            title=work.title,
            description=work.description,
            status=work.status,
            link=work.link,
            contact=work.contact,
            element_ids=tuple(sorted(links[work.id])),
        )
        for work in approved
    }


def latest_wording(work: AlignedWork) -> Wording:
    """What the submitter last sent: the pending wording if any, else the approved one."""
    if work.pending is not None:
        return Wording.from_pending(work.pending)
    wording = approved_wording(work)
    assert wording is not None  # an initiative without pending wording has been approved
    return wording


# --- state changes ----------------------------------------------------------------------------------


def submit_aligned_work(vision: Vision, submitter: User, **fields: Any) -> AlignedWork:
    """Record a new initiative, waiting for screening. Nothing of it is public until approved.

    `fields` are the wording fields (organisation, title, description, status, link, contact,
    element_ids); anything else is refused by Python. Raises NotAllowed, ValidationError.
    """
    if not permissions.can_submit_aligned_work(submitter):
        raise NotAllowed("Sign in to record aligned work")
    wording = check_wording(vision, **fields)
    now = utcnow()
    work = AlignedWork(
        vision_id=vision.id,
        submitter_id=submitter.id,
        created_at=now,
        updated_at=now,
        state="pending",
        screening_reason="",
        pending=wording.as_pending(now),
    )
    db.session.add(work)
    db.session.flush()
    record_event("aligned_work.submitted", "aligned_work", work.id, actor=submitter, vision_id=vision.id)
    return work


def change_aligned_work(work: AlignedWork, submitter: User, **fields: Any) -> str:
    """The submitter changes their initiative; the new wording goes back to screening.

    The approved wording stays public meanwhile. Returns what happened: "waiting" (sent for
    screening) or "restored" (they went back to the published wording, so nothing waits).
    Raises NotAllowed, ValidationError (also when nothing changed).
    """
    if not permissions.can_edit_aligned_work(submitter, work):
        raise NotAllowed("Only the person who submitted an initiative can change it")
    vision = db.session.get(Vision, work.vision_id)
    wording = check_wording(vision, **fields)
    published = approved_wording(work)
    if published is not None and wording == published:
        if work.pending is None:
            raise ValidationError({"form": "You have not changed anything"})
        work.pending = None
        work.screening_reason = ""
        work.updated_at = utcnow()
        record_event("aligned_work.changes_withdrawn", "aligned_work", work.id, actor=submitter, vision_id=work.vision_id)
        db.session.flush()
        return "restored"
    if work.pending is not None and is_waiting(work) and Wording.from_pending(work.pending) == wording:
        raise ValidationError({"form": "You have not changed anything"})
    now = utcnow()
    work.pending = wording.as_pending(now)
    work.screening_reason = ""
    work.updated_at = now
    if work.state == "rejected":
        work.state = "pending"
    record_event("aligned_work.changed", "aligned_work", work.id, actor=submitter, vision_id=work.vision_id)
    db.session.flush()
    return "waiting"


def _check_decision(work: AlignedWork, facilitator: User, expected_submitted_at: str | None) -> dict[str, Any]:
    if not permissions.can_screen_aligned_work(facilitator):
        raise NotAllowed("Only facilitators screen aligned work")
    if not permissions.can_decide_aligned_work(facilitator, work):
        raise NotAllowed("Another facilitator screens your own initiative")
    if not is_waiting(work):
        raise ValidationError({"form": "This initiative has already been screened: nothing is waiting for a decision"})
    pending = dict(work.pending)
    if expected_submitted_at is not None and expected_submitted_at != pending.get("submitted_at"):
        raise ValidationError(
            {"form": "The wording changed after you opened this page. Read the wording shown now, then decide"}
        )
    return pending


def approve_aligned_work(work: AlignedWork, facilitator: User, *, expected_submitted_at: str | None) -> AlignedWork:
    """Publish the waiting wording: it replaces the approved wording and its elements.

    `expected_submitted_at` is the `submitted_at` of the wording the facilitator read (None skips
    the check). Raises NotAllowed (not a facilitator, or their own initiative) and ValidationError
    (nothing waiting, or the wording changed meanwhile).
    """
    pending = _check_decision(work, facilitator, expected_submitted_at)
    wording = Wording.from_pending(pending)
    first = work.state != "approved"
    previous_ids = [] if first else approved_element_ids(work)
    now = utcnow()
    work.organisation = wording.organisation
    work.title = wording.title
    work.description = wording.description
    work.status = wording.status
    work.link = wording.link
    work.contact = wording.contact
    work.state = "approved"
    work.approved_at = now
    work.pending = None
    work.screening_reason = ""
    db.session.execute(delete(AlignedWorkElement).where(AlignedWorkElement.aligned_work_id == work.id))
    db.session.add_all(AlignedWorkElement(aligned_work_id=work.id, element_id=i) for i in wording.element_ids)
    # The audit trail is public in spirit: it never holds the contact.
    record_event(
        "aligned_work.approved",
        "aligned_work",
        work.id,
        actor=facilitator,
        vision_id=work.vision_id,
        first_approval=first,
        submitted_at=pending.get("submitted_at"),
        element_ids=list(wording.element_ids),
        previous_element_ids=previous_ids,
    )
    db.session.flush()
    return work


def reject_aligned_work(
    work: AlignedWork, facilitator: User, *, reason: Any, expected_submitted_at: str | None
) -> AlignedWork:
    """Refuse the waiting wording with a reason its submitter sees; an approved wording stays public.

    Raises NotAllowed, ValidationError (no reason, nothing waiting, or the wording changed meanwhile).
    """
    errors: dict[str, str] = {}
    text = _text(reason, "reason", "Reason", errors, multiline=True, required=True, limit=REASON_MAX)
    if errors:
        if "Enter the reason" in errors.get("reason", ""):
            errors["reason"] = "Enter the reason for not publishing it: the submitter will see it"
        raise ValidationError(errors)
    pending = _check_decision(work, facilitator, expected_submitted_at)
    changes = work.state == "approved"
    if not changes:
        work.state = "rejected"
    work.screening_reason = text
    record_event(
        "aligned_work.rejected",
        "aligned_work",
        work.id,
        actor=facilitator,
        vision_id=work.vision_id,
        reason=text,
        changes_to_published=changes,
        submitted_at=pending.get("submitted_at"),
    )
    db.session.flush()
    return work


def load_for_decision(work_id: int) -> AlignedWork | None:
    """The initiative, locked for the rest of the transaction on PostgreSQL (SQLite: BEGIN IMMEDIATE)."""
    return db.session.scalar(select(AlignedWork).where(AlignedWork.id == work_id).with_for_update())


# --- the public register ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Initiative:
    """An approved initiative as the public sees it: no contact, ever."""

    id: int
    organisation: str
    title: str
    description: str
    status: str
    link: str
    approved_at: datetime | None
    elements: tuple[ElementChoice, ...] = ()

    @classmethod
    def of(cls, id: int, wording: Any, approved_at: datetime | None, element_ids: Sequence[int], elements: VisionElements) -> Initiative:
        """From its approved wording (organisation, title, description, status, link) and the
        ids of the parts of the vision it supports."""
        return cls(
            id=id,
            organisation=wording.organisation,
            title=wording.title,
            description=wording.description,
            status=wording.status,
            link=wording.link,
            approved_at=approved_at,
            elements=tuple(elements.describe(element_ids)),
        )

    @property
    def status_words(self) -> str:
        return STATUSES.get(self.status, self.status)


# The only columns any public page or export reads: `contact` is deliberately absent.
PUBLIC_COLUMNS = (
    AlignedWork.id,
    AlignedWork.organisation,
    AlignedWork.title,
    AlignedWork.description,
    AlignedWork.status,
    AlignedWork.link,
    AlignedWork.approved_at,
)


@dataclass(frozen=True)
class RegisterFilters:
    element: ElementChoice | None = None
    status: str | None = None
    organisation: str = ""

    @property
    def active(self) -> bool:
        return bool(self.element or self.status or self.organisation)

    def as_args(self) -> dict[str, str]:
        args: dict[str, str] = {}
        if self.element:
            args["element"] = self.element.key
        if self.status:
            args["status"] = self.status
        if self.organisation:
            args["organisation"] = self.organisation
        return args


def parse_register_filters(args: Any, elements: VisionElements) -> tuple[RegisterFilters, dict[str, str]]:
    """Read `element` (a key), `status` and `organisation` from query arguments.

    Unknown values are not applied; they come back as per-field messages. Returns (filters, errors).
    """
    errors: dict[str, str] = {}
    element = None
    key = (args.get("element") or "").strip()
    if key:
        element = elements.by_key.get(key)
        if element is None or element.kind not in SELECTABLE_KINDS:
            errors["element"] = "There is no such part of this vision; showing initiatives for every part"
            element = None
    status = (args.get("status") or "").strip() or None
    if status is not None and status not in STATUSES:
        errors["status"] = "Choose planned, current or completed; showing every status"
        status = None
    organisation = clean_text(args.get("organisation") or "", multiline=False)[:ORGANISATION_MAX]
    return RegisterFilters(element=element, status=status, organisation=organisation), errors


@dataclass
class Page:
    items: list[Any]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.number * self.size, self.total)

    @property
    def exists(self) -> bool:
        """Page 1 always exists (it may be empty); later pages only when they hold items."""
        return self.number == 1 or self.number <= self.pages


def _register_conditions(vision: Vision, filters: RegisterFilters, elements: VisionElements) -> list[Any]:
    conditions = [AlignedWork.vision_id == vision.id, AlignedWork.state == "approved"]
    if filters.element is not None:
        conditions.append(
            AlignedWork.id.in_(
                select(AlignedWorkElement.aligned_work_id).where(
                    AlignedWorkElement.element_id.in_(elements.family_ids(filters.element))
                )
            )
        )
    if filters.status:
        conditions.append(AlignedWork.status == filters.status)
    if filters.organisation:
        conditions.append(AlignedWork.organisation.icontains(filters.organisation, autoescape=True))
    return conditions


def _with_elements(rows: Sequence[Any], elements: VisionElements) -> list[Initiative]:
    ids = [row.id for row in rows]
    links: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for work_id, element_id in db.session.execute(
            select(AlignedWorkElement.aligned_work_id, AlignedWorkElement.element_id).where(
                AlignedWorkElement.aligned_work_id.in_(ids)
            )
        ):
            links[work_id].append(element_id)
    return [Initiative.of(row.id, row, row.approved_at, links[row.id], elements) for row in rows]


def register_page(vision: Vision, filters: RegisterFilters, elements: VisionElements, page: int = 1) -> Page:
    """One page (PAGE_SIZE) of approved initiatives, organisation A to Z, with the number of all that
    match; two queries whatever the data. A page past the end comes back empty (`exists` is False)."""
    conditions = _register_conditions(vision, filters, elements)
    order = (AlignedWork.organisation, AlignedWork.title, AlignedWork.id)
    # One pass over the matching rows, on their narrow sort keys only (ix_aligned_work_register
    # covers them), numbers them all and picks the page; the page's 20 rows are then fetched whole.
    # Counting in a separate query scanned everything twice.
    page_ids = (
        select(AlignedWork.id.label("id"), func.count().over().label("total"))
        .where(*conditions)
        .order_by(*order)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).subquery()
    rows = db.session.execute(
        select(*PUBLIC_COLUMNS, page_ids.c.total).join(page_ids, page_ids.c.id == AlignedWork.id).order_by(*order)
    ).all()
    total = rows[0].total if rows else 0
    return Page(items=_with_elements(rows, elements), total=total, number=page)


def register(vision: Vision, elements: VisionElements | None = None) -> list[Initiative]:
    """Every approved initiative of the vision, for the open-data exports; two queries."""
    elements = elements or vision_elements(vision)
    rows = db.session.execute(
        select(*PUBLIC_COLUMNS)
        .where(AlignedWork.vision_id == vision.id, AlignedWork.state == "approved")
        .order_by(AlignedWork.id)
    ).all()
    links: dict[int, list[int]] = {row.id: [] for row in rows}
    for work_id, element_id in db.session.execute(
        select(AlignedWorkElement.aligned_work_id, AlignedWorkElement.element_id)
        .join(AlignedWork, AlignedWork.id == AlignedWorkElement.aligned_work_id)
        .where(AlignedWork.vision_id == vision.id, AlignedWork.state == "approved")
    ):
        links[work_id].append(element_id)
    return [Initiative.of(row.id, row, row.approved_at, links[row.id], elements) for row in rows]


# --- counts and element pages -----------------------------------------------------------------------


def initiative_counts(vision: Vision) -> dict[int, int]:
    """Approved initiatives per element id; an ambition counts the distinct initiatives that support
    it or any of its objectives and enabling conditions. Elements without any are left out. Two
    aggregate queries, whatever the data."""
    approved = and_(
        AlignedWork.id == AlignedWorkElement.aligned_work_id,
        AlignedWork.vision_id == vision.id,
        AlignedWork.state == "approved",
    )
    counts: dict[int, int] = dict(
        db.session.execute(
            select(AlignedWorkElement.element_id, func.count(func.distinct(AlignedWorkElement.aligned_work_id)))
            .join(AlignedWork, approved)
            .group_by(AlignedWorkElement.element_id)
        ).all()
    )
    ambition = aliased(Element)
    ambition_id = func.coalesce(DraftEntry.parent_element_id, AlignedWorkElement.element_id)
    rollup = db.session.execute(
        select(ambition_id, func.count(func.distinct(AlignedWorkElement.aligned_work_id)))
        .join(AlignedWork, approved)
        .join(DraftEntry, DraftEntry.element_id == AlignedWorkElement.element_id)
        .join(ambition, ambition.id == ambition_id)
        .where(ambition.kind == "ambition")
        .group_by(ambition_id)
    ).all()
    counts.update(dict(rollup))
    return counts


def initiative_counts_by_key(vision: Vision) -> dict[str, int]:
    """`initiative_counts` keyed by element key, for pages rendered from a version's snapshot."""
    counts = initiative_counts(vision)
    if not counts:
        return {}
    keys = dict(
        db.session.execute(select(Element.id, Element.key).where(Element.id.in_(list(counts)))).all()
    )
    return {keys[i]: n for i, n in counts.items() if i in keys}


def _element_family(element: Element):
    """Ids of the element and, for an ambition, of its objectives and conditions (a subquery)."""
    if element.kind != "ambition":
        return select(Element.id).where(Element.id == element.id)
    return select(DraftEntry.element_id).where(DraftEntry.parent_element_id == element.id).union(
        select(Element.id).where(Element.id == element.id)
    )


def _supporting(vision: Vision, element: Element):
    return and_(
        AlignedWork.vision_id == vision.id,
        AlignedWork.state == "approved",
        AlignedWork.id.in_(
            select(AlignedWorkElement.aligned_work_id).where(AlignedWorkElement.element_id.in_(_element_family(element)))
        ),
    )


def initiatives_for_element(vision: Vision, element: Element, *, limit: int | None = None) -> list[Initiative]:
    """Approved initiatives that support the element (for an ambition: it or any of its objectives
    and enabling conditions), organisation A to Z; one query. Initiatives carry no elements here."""
    query = (
        select(*PUBLIC_COLUMNS)
        .where(_supporting(vision, element))
        .order_by(AlignedWork.organisation, AlignedWork.title, AlignedWork.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [Initiative(*row) for row in db.session.execute(query).all()]


@dataclass(frozen=True)
class ElementInitiatives:
    """What `templates/aligned/_element_initiatives.html` shows on an element's page."""

    vision_slug: str
    element_key: str
    element_kind: str
    count: int
    initiatives: list[Initiative]

    @property
    def more(self) -> bool:
        return self.count > len(self.initiatives)


def element_initiatives(vision: Vision, element: Element, *, limit: int = 5) -> ElementInitiatives:
    """The count and the first `limit` initiatives supporting an element; two queries."""
    count = db.session.scalar(select(func.count(AlignedWork.id)).where(_supporting(vision, element))) or 0
    initiatives = initiatives_for_element(vision, element, limit=limit) if count else []
    return ElementInitiatives(vision.slug, element.key, element.kind, count, initiatives)


# --- screening queue and the submitter's own list -----------------------------------------------------


def screening_queue(vision: Vision, page: int = 1) -> Page:
    """Initiatives with a wording waiting for a decision, oldest submission first."""
    where = and_(AlignedWork.vision_id == vision.id, _waiting_clause())
    total = db.session.scalar(select(func.count(AlignedWork.id)).where(where)) or 0
    rows = db.session.execute(
        select(AlignedWork, User)
        .join(User, User.id == AlignedWork.submitter_id)
        .where(where)
        .order_by(AlignedWork.updated_at, AlignedWork.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return Page(items=[tuple(row) for row in rows], total=total, number=page)


def waiting_count(vision: Vision) -> int:
    return db.session.scalar(
        select(func.count(AlignedWork.id)).where(AlignedWork.vision_id == vision.id, _waiting_clause())
    ) or 0


def initiatives_of(user: User, page: int = 1) -> Page:
    """The user's own initiatives in every vision, most recently changed first: (work, vision) pairs."""
    where = AlignedWork.submitter_id == user.id
    total = db.session.scalar(select(func.count(AlignedWork.id)).where(where)) or 0
    rows = db.session.execute(
        select(AlignedWork, Vision)
        .join(Vision, Vision.id == AlignedWork.vision_id)
        .where(where)
        .order_by(AlignedWork.updated_at.desc(), AlignedWork.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return Page(items=[tuple(row) for row in rows], total=total, number=page)


def forget_contacts_of(user: User) -> None:
    """Remove the contact details from everything the person submitted (their account is being
    deleted: the initiatives stay, the way to reach them goes). Flushes."""
    works = db.session.scalars(select(AlignedWork).where(AlignedWork.submitter_id == user.id)).all()
    for work in works:
        work.contact = ""
        if work.pending and work.pending.get("contact"):
            work.pending = {**work.pending, "contact": ""}
    db.session.flush()
