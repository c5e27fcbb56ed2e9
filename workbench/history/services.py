"""History between published versions: comparisons, element timelines, changelogs with names.

Published versions never change, so everything derived from them alone is computed once per process
and kept (per app, least recently used out first): word diffs of text pairs, document diffs of
version pairs, element timelines (keyed by the latest version number, so a new version starts a new
timeline). Names are looked up when shown, never stored (a changelog holds user ids): a person who
deletes their account shows as "a former participant", and one who chooses to be published without
their name as "a participant", everywhere at once, in versions published before too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from .. import diffcache
from ..numbers import whole_number
from ..publication import name_shown
from ..caching import app_cache
from ..models import Proposal, User, Version, Vision, db
from ..text_diff import TextDiff
from ..visions import services as visions
from .documents import DocumentDiff, diff_documents, outline_diff, reordered_in_place

VERSIONS_PER_PAGE = 20
FEED_ENTRIES = 20


# --- comparisons -----------------------------------------------------------------------------------


def diff_trees(
    old_elements: Sequence[dict[str, Any]], new_elements: Sequence[dict[str, Any]], moved_keys: frozenset[str] = frozenset()
) -> DocumentDiff:
    """The whole-document diff of two element lists (text diffs cached); `moved_keys` as
    `diff_documents` takes them."""
    return diff_documents(old_elements, new_elements, diffcache.diff, moved_keys)


# Changelog entries that say an element was moved: a facilitator's direct move, an accepted move.
_MOVES = (("edit", "reorder"), ("accepted", "move"))


def moved_in(changelog: Sequence[dict[str, Any]]) -> frozenset[str]:
    """The keys of the elements a version's changelog says were moved."""
    return frozenset(e.get("element", "") for e in changelog if (e.get("type"), e.get("change")) in _MOVES)


def moved_by_version(vision_id: int, numbers: Sequence[int]) -> dict[int, frozenset[str]]:
    """Version number -> the keys its changelog says were moved, for those of `numbers` that
    exist: one query for the ones not read in this process yet (changelogs never change)."""
    cache = app_cache("moved_by_version", 256)
    found: dict[int, frozenset[str]] = {}
    missing = []
    for number in numbers:
        known = cache.get((vision_id, number))
        if known is None:
            missing.append(number)
        else:
            found[number] = known
    if missing:
        rows = db.session.execute(
            select(Version.number, Version.changelog).where(Version.vision_id == vision_id, Version.number.in_(missing))
        )
        for row in rows:
            found[row.number] = cache.put((vision_id, row.number), moved_in(json.loads(row.changelog or "[]")))
    return found


@dataclass(frozen=True)
class Comparison:
    older: visions.PublishedVersion
    newer: visions.PublishedVersion
    diff: DocumentDiff


def compare_versions(slug: str, a: int, b: int) -> Comparison | None:
    """Version a compared with version b (a before b) of the vision `slug`; None if either is missing.

    One query, and one more for the changelogs between them when they are not neighbours and
    siblings changed their order (which of them were moved, when the trees alone cannot tell); the
    document diff is kept per process (it can never change).
    """
    found = visions.load_versions(slug, (a, b))
    if a not in found or b not in found:
        return None
    older, newer = found[a], found[b]

    def build() -> DocumentDiff:
        moved = set(moved_in(newer.changelog))
        if b - a > 1 and reordered_in_place(older.elements, newer.elements):
            for keys in moved_by_version(older.vision_id, range(a + 1, b)).values():
                moved.update(keys)
        return diff_trees(older.elements, newer.elements, frozenset(moved))

    diff = app_cache("comparison", 16).get_or_compute((older.vision_id, a, b), build)
    return Comparison(older=older, newer=newer, diff=diff)


def comparison_document(comparison: Comparison, base: str) -> dict[str, Any]:
    """A comparison as open data (/compare/<a>...<b>.json); `base` is the vision's absolute URL.

    {"vision": {"slug", "title"}, "from_version", "to_version", "from_permalink", "to_permalink",
    "summary", "counts": {"added", "removed", "moved", "changed", "renumbered"}, "changes": [...]}
    with each change as `ElementDiff.as_record` says."""
    older, newer, diff = comparison.older, comparison.newer, comparison.diff
    return {
        "vision": {"slug": newer.snapshot["vision"]["slug"], "title": newer.snapshot["vision"]["title"]},
        "from_version": older.number,
        "to_version": newer.number,
        "from_permalink": f"{base}/v/{older.number}/",
        "to_permalink": f"{base}/v/{newer.number}/",
        "summary": diff.summary,
        "counts": {name: diff.counts.get(name, 0) for name in ("added", "removed", "moved", "changed", "renumbered")},
        "changes": diff.records(),
    }


# --- element timelines ----------------------------------------------------------------------------


@dataclass
class TimelineEntry(TextDiff):
    """A version in which an element was added, changed its words, moved or was removed, with the
    change of its title and body (a TextDiff) from its text in the previous version that held it
    and, for a change of place, `place` in words ("moved from Ambition 2, position 3, to Ambition
    4, position 1"; "new under Ambition 2, position 3"; "removed from ..., with the 2 objectives
    under it").

    Not frozen (a TextDiff is not), but kept in a shared cache: never change one once built.
    """

    number: int
    published_at: str
    status: str  # "added", "changed", "moved" or "removed"
    label: str
    previous_number: int | None
    moved: bool = False
    place: str = ""
    previous_label: str | None = None

    @property
    def status_words(self) -> str:
        return {"added": "Added", "changed": "Text changed", "moved": "Moved", "removed": "Removed"}[self.status]

    @property
    def tags(self) -> list[str]:
        """The change in words for its tags: ["Text changed", "Moved"] when it was both."""
        return [self.status_words, "Moved"] if self.moved and self.status == "changed" else [self.status_words]


def _all_snapshots(vision: Vision) -> list[tuple[int, dict[str, Any]]]:
    """Every published snapshot of the vision, oldest first, each checked against its hashes and
    signature once per process (visions.snapshots_of: one query for those not checked yet)."""
    numbers = range(1, vision.latest_version_number + 1)
    found = visions.snapshots_of(vision.id, numbers)
    return [(n, found[n]) for n in numbers if n in found]


@dataclass(frozen=True)
class PlaceChange:
    """What a version did to one element's place: whether it moved, and its change of place in
    words (`ElementDiff.place_change`: "moved from ...", "new under ...", "removed from ...")."""

    moved: bool
    words: str


def version_outline(
    vision_id: int,
    number: int,
    older: dict[str, Any] | None,
    newer: dict[str, Any],
    moved: Callable[[], frozenset[str]],
) -> dict[str, PlaceChange]:
    """What version `number` did to the outline against `older` (the version before; None for the
    first), for each element whose place changed, by key (`outline_diff`: no words diffed).
    `moved` gives the keys its changelog says were moved, asked for only when siblings changed
    their order. Kept per process, small: only the words, not the rows."""
    def build() -> dict[str, PlaceChange]:
        old = older["elements"] if older else []
        hints = moved() if reordered_in_place(old, newer["elements"]) else frozenset()
        rows = outline_diff(old, newer["elements"], hints).rows
        return {row.key: PlaceChange(row.moved, row.place_change) for row in rows if row.place_change}

    return app_cache("version_outline", 64).get_or_compute((vision_id, number), build)


def _build_timeline(vision: Vision, key: str) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    previous: dict[str, Any] | None = None
    previous_number: int | None = None
    snapshots = _all_snapshots(vision)
    changelogs: dict[int, frozenset[str]] = {}

    def moved_in_version(number: int) -> frozenset[str]:
        # Every version's changelog in one query, the first time one is needed.
        if not changelogs:
            changelogs.update(moved_by_version(vision.id, [n for n, _ in snapshots[1:]]))
            changelogs.setdefault(0, frozenset())
        return changelogs.get(number, frozenset())

    older: dict[str, Any] | None = None
    for number, snapshot in snapshots:
        element = next((e for e in snapshot["elements"] if e["key"] == key), None)
        place = None  # what this version did to its place, if anything
        if element is not None or previous is not None:
            place = version_outline(vision.id, number, older, snapshot, lambda n=number: moved_in_version(n)).get(key)
        older = snapshot
        status = None
        if element is not None and previous is None:
            status = "added"
        elif element is None and previous is not None:
            status = "removed"
        elif element is not None and previous is not None and (
            element["title"] != previous["title"] or element["body"] != previous["body"]
        ):
            status = "changed"
        elif place is not None and place.moved:
            status = "moved"
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
                    moved=bool(place is not None and place.moved),
                    place=place.words if place is not None and number > 1 else "",
                    previous_label=previous["label"] if previous is not None else None,
                )
            )
        if element is not None or previous is not None:
            previous, previous_number = element, number
    entries.reverse()
    return entries


def element_timeline(vision: Vision, key: str) -> list[TimelineEntry]:
    """Each published version in which the element `key` was added, changed its words, moved or
    was removed, newest first, each with the word diff from the version before and its change
    of place in words. (A renumbering because of changes around it is not listed.)

    Kept per (vision, latest version, key): no query once computed; building it reads the
    snapshots not yet parsed in one query, and, only when siblings changed their order in some
    version, the changelogs (which of them were moved) in one more.
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


PROPOSAL_WORDS = {"edit": "on", "remove": "to remove", "move": "to move", "add": "to add"}

# Before each change of the outline was listed once (see drafting/publishing.py build_changelog),
# an accepted removal or move was also stored as a direct edit whose reason ends like this.
_FOLDED_REASON = re.compile(r"^(?P<words>.*?) by accepting proposal (?P<id>\d+)\.$", re.S)
_FOLDED_KINDS = {"remove": "remove", "reorder": "move"}


def _fold_older_changelog(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A changelog stored before structural changes were listed once, with each accepted removal
    or move listed once: its extra "edit" entries are folded into the accepted proposal's entry
    (never stored: published versions do not change). Newer changelogs come back as they are."""
    accepted = {e.get("proposal_id"): e for e in entries if e.get("type") == "accepted"}
    if not accepted:
        return entries
    kept = []
    for entry in entries:
        match = _FOLDED_REASON.match(entry.get("reason") or "") if entry.get("type") == "edit" else None
        owner = accepted.get(int(match["id"])) if match and entry.get("change") in _FOLDED_KINDS else None
        if owner is None:
            kept.append(entry)
            continue
        if owner.get("element") == entry.get("element"):
            change = _FOLDED_KINDS[entry["change"]]
            words = match["words"]  # type: ignore[index]
            where = words[0].lower() + words[1:] if change == "move" else "removed"
            accepted[owner["proposal_id"]] = {**owner, "change": change, "where": where}
    return [accepted.get(e.get("proposal_id"), e) if e.get("type") == "accepted" else e for e in kept]


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
    where: str = ""  # a change of the outline in words: "moved from Ambition 2, position 3, to ..."

    @property
    def change_words(self) -> str:
        return CHANGE_WORDS.get(self.change, self.change.replace("_", " ").capitalize())

    @property
    def what(self) -> str:
        """What a direct edit did, in words: where it put the element, or the kind of change."""
        return self.where or self.change_words.lower()

    @property
    def where_sentence(self) -> str:
        """`where` as a sentence: "Moved from Ambition 1, position 2, to Ambition 2, position 1."."""
        return f"{self.where[0].upper()}{self.where[1:]}." if self.where else ""

    @property
    def proposal_words(self) -> str:
        """How an accepted proposal names its element: "on" (an edit), "to remove", "to move", "to add"."""
        return PROPOSAL_WORDS.get(self.change, "on")

    @property
    def reason_shown(self) -> str:
        """The reason, unless it only repeats the move that `where` says (a direct move's reason
        is written by the app: "Moved from ... to ...")."""
        return "" if self.change == "reorder" and self.where else self.text


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
    """User id -> the name shown in public (`publication.name_shown`: "a participant" for people
    published without their name, "a former participant" for deleted accounts); one query."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(User.id, User.display_name, User.is_deleted, User.publish_as).where(User.id.in_(user_ids))
    ).all()
    return {row.id: name_shown(row.display_name, is_deleted=row.is_deleted, publish_as=row.publish_as) for row in rows}


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
    parsed = [(version, _fold_older_changelog(json.loads(version.changelog or "[]"))) for version in versions]
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
                where=entry.get("where", ""),
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
        where = f": {item.where}" if item.where else ""
        lines.append(f"- {item.label}: proposal {item.proposal_id}{by} accepted{how}{where}.")
    for item in version.edits:
        why = f": {item.reason_shown}" if item.reason_shown else "."
        lines.append(f"- {item.label}: {item.what} by {item.actor or 'a facilitator'}{why}")
    for item in version.rejected:
        why = f": {item.text}" if item.text else "."
        lines.append(f"- {item.label}: proposal {item.proposal_id} rejected{why}")
    if version.credits:
        lines += ["", f"With thanks to {', '.join(version.credits)}."]
    return "\n".join(lines)
