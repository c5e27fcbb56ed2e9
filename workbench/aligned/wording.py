"""What an initiative says: its wording, the checks on what people send, and the parts of the
vision it can support.

A wording is what a submitter sends and a facilitator approves (see `services.py` for screening).
Waiting wordings are kept in `AlignedWork.pending` as JSON (`Wording.as_pending`):

    {"organisation": str, "title": str, "description": str,
     "status": "planned" | "current" | "completed",
     "link": str,            # "" or a normalised http(s) URL
     "contact": str,         # "" or an e-mail address or phone number; never public
     "element_ids": [int],   # ambitions, objectives or enabling conditions of the vision, sorted
     "submitted_at": str}    # ISO 8601 UTC with microseconds: identifies this wording, so that a
                             # facilitator only decides on the wording they saw

`check_wording` raises `ValidationError` with a message per bad field, in the users' words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..exceptions import ValidationError
from ..models import DraftEntry, Element, ElementText, Vision, db
from ..validation import clean_text, has_disguising_characters
from ..visions import snapshots

# Made once: SQLAlchemy adapts a new alias's columns afresh on each use (queue_flags._OTHER).
_PARENT = aliased(Element, name="parent_element")

STATUSES: dict[str, str] = {"planned": "Planned", "current": "Current", "completed": "Completed"}
SELECTABLE_KINDS = ("ambition", "objective", "condition")

ORGANISATION_MAX = 200
TITLE_MAX = 200
DESCRIPTION_MAX = 5_000
LINK_MAX = 500
CONTACT_MAX = 254
REASON_MAX = 2_000


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
    parent = _PARENT
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


def checked_text(
    value: Any, name: str, what: str, errors: dict[str, str], *, multiline: bool, required: bool, limit: int
) -> str:
    """`value` as clean text; what is wrong with it goes into `errors[name]`, with `what` naming the
    field in the message ("Enter the title")."""
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
    wording_organisation = checked_text(
        organisation, "organisation", "Organisation name", errors, multiline=False, required=True, limit=ORGANISATION_MAX
    )
    wording_title = checked_text(title, "title", "Title", errors, multiline=False, required=True, limit=TITLE_MAX)
    wording_description = checked_text(
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
