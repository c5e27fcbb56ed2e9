"""History between published versions: comparisons, element timelines, changelogs with names.

Published versions never change, so everything derived from them alone is computed once per process
and kept (per app, least recently used out first): word diffs of text pairs, document diffs of
version pairs, element timelines (keyed by the latest version number, so a new version starts a new
timeline). Names are looked up when shown, never stored: a person who deletes their account shows as
"a former participant" everywhere at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from .. import diffcache
from ..numbers import whole_number
from ..caching import app_cache
from ..models import Proposal, User, Version, Vision, db
from ..text_diff import TextDiff
from ..visions import services as visions
from .documents import DocumentDiff, diff_documents

VERSIONS_PER_PAGE = 20
FEED_ENTRIES = 20


# --- comparisons -----------------------------------------------------------------------------------


def diff_trees(old_elements: Sequence[dict[str, Any]], new_elements: Sequence[dict[str, Any]]) -> DocumentDiff:
    """The whole-document diff of two element lists (text diffs cached)."""
    return diff_documents(old_elements, new_elements, diffcache.diff)


@dataclass(frozen=True)
class Comparison:
    older: visions.PublishedVersion
    newer: visions.PublishedVersion
    diff: DocumentDiff


def compare_versions(slug: str, a: int, b: int) -> Comparison | None:
    """Version a compared with version b (a before b) of the vision `slug`; None if either is missing.

    One query; the document diff is kept per process (it can never change).
    """
    found = visions.load_versions(slug, (a, b))
    if a not in found or b not in found:
        return None
    older, newer = found[a], found[b]
    cache = app_cache("comparison", 16)
    diff = cache.get_or_compute(
        (older.vision_id, a, b), lambda: diff_trees(older.elements, newer.elements)
    )
    return Comparison(older=older, newer=newer, diff=diff)


# --- element timelines ----------------------------------------------------------------------------


@dataclass
class TimelineEntry(TextDiff):
    """A version in which an element's words changed: added, changed or removed, with the change
    of its title and body (a TextDiff) from its text in the previous version that held it.

    Not frozen (a TextDiff is not), but kept in a shared cache: never change one once built.
    """

    number: int
    published_at: str
    status: str  # "added", "changed" or "removed"
    label: str
    previous_number: int | None

    @property
    def status_words(self) -> str:
        return {"added": "Added", "changed": "Text changed", "removed": "Removed"}[self.status]


def _all_snapshots(vision: Vision) -> list[tuple[int, dict[str, Any]]]:
    """Every published snapshot of the vision, oldest first, each checked against its hashes and
    signature once per process (visions.snapshots_of: one query for those not checked yet)."""
    numbers = range(1, vision.latest_version_number + 1)
    found = visions.snapshots_of(vision.id, numbers)
    return [(n, found[n]) for n in numbers if n in found]


def _build_timeline(vision: Vision, key: str) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    previous: dict[str, Any] | None = None
    previous_number: int | None = None
    for number, snapshot in _all_snapshots(vision):
        element = next((e for e in snapshot["elements"] if e["key"] == key), None)
        status = None
        if element is not None and previous is None:
            status = "added"
        elif element is None and previous is not None:
            status = "removed"
        elif element is not None and previous is not None and (
            element["title"] != previous["title"] or element["body"] != previous["body"]
        ):
            status = "changed"
        if status is not None:
            old_title, old_body = (previous["title"], previous["body"]) if previous else ("", "")
            new_title, new_body = (element["title"], element["body"]) if element else ("", "")
            words = TextDiff.between(old_title, old_body, new_title, new_body)
            entries.append(
                TimelineEntry(
                    words.title,
                    words.body,
                    number=number,
                    published_at=snapshot["published_at"],
                    status=status,
                    label=(element or previous)["label"],  # type: ignore[index]
                    previous_number=previous_number if previous is not None else None,
                )
            )
        if element is not None or previous is not None:
            previous, previous_number = element, number
    entries.reverse()
    return entries


def element_timeline(vision: Vision, key: str) -> list[TimelineEntry]:
    """Each published version in which the element `key` was added, changed its words or was
    removed, newest first, each with the word diff from the version before.

    Kept per (vision, latest version, key): no query once computed; building it reads the
    snapshots not yet parsed in one query.
    """
    if not vision.latest_version_number:
        return []
    cache = app_cache("timeline", 512)
    return cache.get_or_compute(
        (vision.id, vision.latest_version_number, key), lambda: _build_timeline(vision, key)
    )


# --- changelogs with names ------------------------------------------------------------------------

CHANGE_WORDS = {
    "edit": "Text edited",
    "add": "Added",
    "remove": "Removed",
    "reorder": "Moved",
    "accept": "Proposal accepted",
}


@dataclass
class ChangelogItem:
    """One changelog entry ready to show: names resolved, hidden proposals masked."""

    type: str  # accepted, edit, rejected
    element: str
    label: str
    text: str  # the note, reason or decision reason ("" when hidden)
    proposal_id: int | None = None
    author: str | None = None
    actor: str | None = None
    with_changes: bool = False
    change: str = ""
    hidden: bool = False

    @property
    def change_words(self) -> str:
        return CHANGE_WORDS.get(self.change, self.change.replace("_", " ").capitalize())


@dataclass
class VersionHistory:
    """A published version with its changelog and credits, names resolved."""

    number: int
    published_at: Any
    notes: str
    published_by: str | None
    accepted: list[ChangelogItem] = field(default_factory=list)
    edits: list[ChangelogItem] = field(default_factory=list)
    rejected: list[ChangelogItem] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)

    @property
    def change_count(self) -> int:
        return len(self.accepted) + len(self.edits)

    @property
    def summary(self) -> str:
        """E.g. "2 accepted proposals, 1 direct edit and 3 rejected proposals"."""
        parts = []
        for n, one, many in (
            (len(self.accepted), "accepted proposal", "accepted proposals"),
            (len(self.edits), "direct edit", "direct edits"),
            (len(self.rejected), "rejected proposal", "rejected proposals"),
        ):
            if n:
                parts.append(f"{n} {one if n == 1 else many}")
        if not parts:
            return ""
        return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


@dataclass
class HistoryPage:
    versions: list[VersionHistory]
    page: int
    pages: int
    total: int


def public_names(user_ids: set[int]) -> dict[int, str]:
    """User id -> the name shown in public ("a former participant" for deleted accounts); one query."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(User.id, User.display_name, User.is_deleted).where(User.id.in_(user_ids))
    ).all()
    return {row.id: ("a former participant" if row.is_deleted else row.display_name) for row in rows}


def _hidden_proposals(ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(
        db.session.scalars(select(Proposal.id).where(Proposal.id.in_(ids), Proposal.hidden_at.is_not(None)))
    )


@dataclass(frozen=True)
class ChangelogContext:
    """The parsed changelogs of some versions, with the public names and hidden proposals they need."""

    parsed: list[tuple[Any, list[dict[str, Any]]]]
    names: dict[int, str]
    hidden: frozenset[int]

    @property
    def fingerprint(self) -> tuple[Any, ...]:
        """Everything mutable the rendered changelogs depend on (names, moderation)."""
        return (tuple(sorted(self.names.items())), self.hidden)


def changelog_context(versions: Sequence[Any]) -> ChangelogContext:
    """Parse the versions' changelogs and look up who and what they name: two queries at most."""
    parsed = [(version, json.loads(version.changelog or "[]")) for version in versions]
    people: set[int] = set()
    proposals: set[int] = set()
    for version, entries in parsed:
        if version.published_by_id is not None:
            people.add(version.published_by_id)
        for entry in entries:
            people.update(entry[name] for name in ("author_id", "actor_id") if entry.get(name) is not None)
            if entry.get("proposal_id") is not None:
                proposals.add(entry["proposal_id"])
    return ChangelogContext(parsed, public_names(people), frozenset(_hidden_proposals(proposals)))


def describe_versions(versions: Sequence[Any], context: ChangelogContext | None = None) -> list[VersionHistory]:
    """Changelogs with names for `versions` (Version rows or anything with number, published_at,
    notes, published_by_id and changelog JSON); two queries however many versions and entries."""
    context = context or changelog_context(versions)
    names, hidden = context.names, context.hidden

    def name(user_id: int | None) -> str | None:
        if user_id is None:
            return None
        return names.get(user_id, "a former participant")

    described = []
    for version, entries in context.parsed:
        history = VersionHistory(
            number=version.number,
            published_at=version.published_at,
            notes=version.notes,
            published_by=name(version.published_by_id),
        )
        for entry in entries:
            is_hidden = entry.get("proposal_id") in hidden
            item = ChangelogItem(
                type=entry["type"],
                element=entry.get("element", ""),
                label=entry.get("label") or entry.get("element", ""),
                text="" if is_hidden else entry.get("note") or entry.get("reason") or "",
                proposal_id=entry.get("proposal_id"),
                author=name(entry.get("author_id")),
                actor=name(entry.get("actor_id")),
                with_changes=bool(entry.get("with_changes")),
                change=entry.get("change", ""),
                hidden=is_hidden,
            )
            {"accepted": history.accepted, "edit": history.edits, "rejected": history.rejected}.get(
                entry["type"], history.edits
            ).append(item)
        history.credits = [name(user_id) or "" for user_id in visions.changelog_credits(entries)]
        described.append(history)
    return described


def page_of(total: int, page: Any, per_page: int = VERSIONS_PER_PAGE) -> tuple[int, int]:
    """(the page asked for, clamped to 1..pages; how many pages) for `total` items."""
    pages = max(1, math.ceil(total / per_page))
    number = whole_number(page, maximum=999_999) or 1
    return min(max(number, 1), pages), pages


def history_page(versions: Sequence[Any], page: Any = 1, per_page: int = VERSIONS_PER_PAGE) -> HistoryPage:
    """One page (newest first) of `versions`, described; a page number out of range shows the last."""
    number, pages = page_of(len(versions), page, per_page)
    chosen = versions[(number - 1) * per_page : number * per_page]
    return HistoryPage(versions=describe_versions(chosen), page=number, pages=pages, total=len(versions))


def feed_versions(vision: Vision, limit: int = FEED_ENTRIES) -> list[VersionHistory]:
    """The newest `limit` versions, described, for the Atom feed (three queries)."""
    rows = db.session.scalars(
        select(Version)
        .options(*visions.list_versions_options())
        .where(Version.vision_id == vision.id)
        .order_by(Version.number.desc())
        .limit(limit)
    ).all()
    return describe_versions(rows)


def feed_summary(version: VersionHistory) -> str:
    """A version's changelog in plain text lines, for its Atom entry."""
    lines: list[str] = []
    if version.notes:
        lines += [version.notes, ""]
    if version.number == 1 and not version.change_count:
        lines.append("The first published version.")
    elif version.summary:
        lines.append(f"In this version: {version.summary}.")
    else:
        lines.append("No changes were recorded.")
    for item in version.accepted:
        by = f" by {item.author}" if item.author else ""
        how = " with changes" if item.with_changes else ""
        lines.append(f"- {item.label}: proposal {item.proposal_id}{by} accepted{how}.")
    for item in version.edits:
        why = f": {item.text}" if item.text else "."
        lines.append(f"- {item.label}: {item.change_words.lower()} by {item.actor or 'a facilitator'}{why}")
    for item in version.rejected:
        why = f": {item.text}" if item.text else "."
        lines.append(f"- {item.label}: proposal {item.proposal_id} rejected{why}")
    if version.credits:
        lines += ["", f"With thanks to {', '.join(version.credits)}."]
    return "\n".join(lines)
