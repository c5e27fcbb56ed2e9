"""Whole-document diffs between two trees of elements (two versions, or a version and the draft).

Pure functions over the snapshot's element dicts (see workbench/visions/snapshots.py): no Flask, no
database. Elements are matched by their stable key, never by position, so that

- an element only in the newer tree is *added*, one only in the older tree *removed*;
- an element in both whose title or body differs is *changed* (with word diffs of each);
- an element in both that went under another parent, or changed its order among the siblings of
  its kind that both trees share, is *moved*: of the shared siblings, the longest run that kept its
  order stayed where it was and the others moved (`moved_keys`, the elements the changelogs say
  were moved, are the first to be counted as moved when two readings are equally short);
- an element in both whose display number differs but that did not move is *renumbered* (such as
  "Objective 2.3" becoming "Objective 2.2" after an earlier objective was removed): not a change
  of its own, but the words a reader cites changed, so it is shown.

Every structural change is said in words as well as by a tag: "new under Ambition 2, position 3",
"removed from Ambition 2, position 3, with the 2 objectives under it", "moved from Ambition 2,
position 3, to Ambition 4, position 1". A position counts among the siblings of the same kind,
from 1, as the draft's moves do (drafting/structure.py).

Rows come in the newer tree's document order; removed elements are slotted in after what preceded
them in the older tree, so that a reader sees them where they used to be.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import diffing
from ..text_diff import TextDiff
from ..visions.snapshots import KIND_NAMES, KIND_PLURALS

Status = Literal["added", "removed", "changed", "unchanged"]

# (old text, new text) -> word diff. Callers may pass a cached one (text pairs never change).
DiffFunction = Callable[[str, str], Sequence[diffing.Change]]


@dataclass(frozen=True)
class Place:
    """Where an element sits in one tree: under `parent` (a key; None at the top level), named
    `parent_label` ("Ambition 2"), at `position` among the siblings of its kind (1 is first)."""

    parent: str | None
    parent_label: str | None
    position: int

    def words(self) -> str:
        """"Ambition 2, position 3", or "position 3" at the top level."""
        return f"{self.parent_label}, position {self.position}" if self.parent_label else f"position {self.position}"

    def as_record(self) -> dict[str, Any]:
        return {"parent": self.parent, "parent_label": self.parent_label, "position": self.position}


def place_of(element: dict[str, Any], by_key: dict[str, dict[str, Any]]) -> Place:
    """The element's place in the tree `by_key` holds: its position is the last part of its
    display number ("2.3" is position 3; the statement, unnumbered, is position 1)."""
    number = element["number"]
    position = int(number.rsplit(".", 1)[-1]) if number else 1
    parent = element["parent"]
    return Place(parent, by_key[parent]["label"] if parent in by_key else None, position)


def _counted(kinds: Sequence[str]) -> str:
    """"the 2 objectives and 1 enabling condition" ("the objective" for one), from their kinds."""
    if len(kinds) == 1:
        return f"the {KIND_NAMES[kinds[0]].lower()}"
    parts = []
    for kind in ("ambition", "objective", "condition"):
        n = sum(1 for k in kinds if k == kind)
        if n:
            parts.append(f"{n} {(KIND_NAMES if n == 1 else KIND_PLURALS)[kind].lower()}")
    return "the " + " and ".join(parts)


@dataclass
class ElementDiff(TextDiff):
    """One element in a document diff: the change of its title and body (a TextDiff, from old to
    new: all added for an added element, all removed for a removed one) and of its place.

    ``old`` / ``new`` are the element's dicts in each tree (None where it does not exist);
    ``old_place`` / ``new_place`` where it sat in each. ``moved``: it went under another parent
    or changed its order among its siblings; ``renumbered``: only its display number changed,
    because of changes around it. A removed element names what went with it (``taken_with``, its
    removed descendants) or what it went with (``removed_with``, the label of its
    removed parent). ``has_changes`` is wider than a TextDiff's: a moved or renumbered element
    differs too.
    """

    key: str
    kind: str
    status: Status
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    moved: bool = False
    reparented: bool = False
    renumbered: bool = False
    old_place: Place | None = None
    new_place: Place | None = None
    taken_with: list[dict[str, Any]] = field(default_factory=list)
    removed_with: str | None = None

    @property
    def element(self) -> dict[str, Any]:
        """The element as it stands in the newer tree, or as it last stood if removed."""
        return self.new if self.new is not None else self.old  # type: ignore[return-value]

    @property
    def label(self) -> str:
        return self.element["label"]

    @property
    def is_top_level(self) -> bool:
        return self.element["parent"] is None

    @property
    def has_changes(self) -> bool:
        return self.status != "unchanged" or self.moved or self.renumbered

    @property
    def is_structural(self) -> bool:
        """Added, removed or moved: a change to the outline (renumbering follows from those)."""
        return self.status in ("added", "removed") or self.moved

    @property
    def status_words(self) -> list[str]:
        """The change in words, for a tag beside the heading: ["Text changed", "Moved"] and so on."""
        words = {"added": ["Added"], "removed": ["Removed"], "changed": ["Text changed"], "unchanged": []}[
            self.status
        ]
        if self.moved:
            words = [*words, "Moved"]
        elif self.renumbered:
            words = [*words, "Renumbered"]
        return words

    def _among(self) -> str:
        return f" among the {KIND_PLURALS[self.kind].lower()}"

    @property
    def place_change(self) -> str:
        """The change of place in words, lower case and without a full stop: "new under Ambition
        2, position 3"; "removed from Ambition 2, position 3, with the 2 objectives under it";
        "removed with Ambition 3, which it was under"; "moved from Ambition 2, position 3, to
        Ambition 4, position 1"; "" when its place did not change (or it was only renumbered)."""
        if self.status == "added" and self.new_place is not None:
            place = self.new_place
            return f"new under {place.words()}" if place.parent_label else f"new at position {place.position}{self._among()}"
        if self.status == "removed" and self.old_place is not None:
            if self.removed_with:
                return f"removed with {self.removed_with}, which it was under"
            place = self.old_place
            words = f"removed from {place.words()}" if place.parent_label else f"removed from position {place.position}{self._among()}"
            return f"{words}, with {_counted([e['kind'] for e in self.taken_with])} under it" if self.taken_with else words
        if self.moved and self.old_place is not None and self.new_place is not None:
            if self.old_place.parent_label is None and self.new_place.parent_label is None:
                return f"moved from position {self.old_place.position} to position {self.new_place.position}{self._among()}"
            return f"moved from {self.old_place.words()}, to {self.new_place.words()}"
        return ""

    @property
    def change_in_words(self) -> str:
        """Everything that happened to it, in words, for a list of changes: "new under Ambition 2,
        position 3"; "moved from Ambition 1, position 2, to Ambition 2, position 1; text changed";
        "renumbered: was Objective 1.3, now Objective 1.2"; "text changed"."""
        parts = []
        if self.place_change:
            parts.append(self.place_change)
        elif self.renumbered and self.old is not None and self.new is not None:
            parts.append(f"renumbered: was {self.old['label']}, now {self.new['label']}")
        if self.status == "changed":
            parts.append("text changed")
        return "; ".join(parts)

    @property
    def move_description(self) -> str:
        """The change of place as a sentence, with the change of number when it has one: "Moved
        from Ambition 1, position 1, to Ambition 2, position 1: it was Objective 1.1 and is now
        Objective 2.1."; "Was Objective 1.3; now Objective 2.2." for a renumbering; "New under
        Ambition 2, position 3."; "" when its place did not change."""
        if self.renumbered and self.old is not None and self.new is not None:
            return f"Was {self.old['label']}; now {self.new['label']}."
        words = self.place_change
        if not words:
            return ""
        sentence = words[0].upper() + words[1:]
        if self.moved and self.old is not None and self.new is not None and self.old["label"] != self.new["label"]:
            return f"{sentence}: it was {self.old['label']} and is now {self.new['label']}."
        return f"{sentence}."

    def as_record(self) -> dict[str, Any]:
        """The change as open data: {"change": "added"|"removed"|"moved"|"changed"|"renumbered",
        "key", "kind", "label", "title", "words"} with "from" and "to" (each {"parent",
        "parent_label", "position", "number", "label"}) where the element was and is, and for a
        removal "with" (the keys removed with it) or "removed_with" (its parent's key). An element
        both moved and reworded says "moved" with "text_changed": true."""
        change = (
            self.status if self.status in ("added", "removed")
            else "moved" if self.moved
            else "changed" if self.status == "changed"
            else "renumbered"
        )
        record: dict[str, Any] = {
            "change": change,
            "key": self.key,
            "kind": self.kind,
            "label": self.label,
            "title": self.element["title"],
            "words": self.move_description or ("Text changed." if self.status == "changed" else ""),
        }
        if change in ("moved", "renumbered"):
            record["text_changed"] = self.status == "changed"
        for name, element, place in (("from", self.old, self.old_place), ("to", self.new, self.new_place)):
            if element is not None and place is not None and change != "changed":
                record[name] = {**place.as_record(), "number": element["number"], "label": element["label"]}
        if self.status == "removed":
            if self.removed_with is not None:
                record["removed_with"] = self.old["parent"]  # type: ignore[index]
            else:
                record["with"] = [e["key"] for e in self.taken_with]
        return record


@dataclass
class DocumentDiff:
    """Every element of both trees, in reading order, with what happened to it."""

    rows: list[ElementDiff]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed_rows(self) -> list[ElementDiff]:
        return [row for row in self.rows if row.has_changes]

    @property
    def structural_rows(self) -> list[ElementDiff]:
        """The elements added, removed or moved, in reading order."""
        return [row for row in self.rows if row.is_structural]

    @property
    def has_changes(self) -> bool:
        return any(row.has_changes for row in self.rows)

    @property
    def summary(self) -> str:
        """E.g. "5 elements differ: 1 changed, 2 added, 1 removed and 1 moved" (renumbered ones
        are counted last: they follow from the others)."""
        parts = []
        for name in ("changed", "added", "removed", "moved", "renumbered"):
            n = self.counts.get(name, 0)
            if n:
                parts.append(f"{n} {name}")
        if not parts:
            return "No changes"
        total = sum(1 for row in self.rows if row.has_changes)
        first = f"{total} element{' differs' if total == 1 else 's differ'}"
        if len(parts) == 1:
            return f"{first}: {parts[0]}"
        return f"{first}: {', '.join(parts[:-1])} and {parts[-1]}"

    def records(self) -> list[dict[str, Any]]:
        """Every element that differs, as open data (`ElementDiff.as_record`), in reading order."""
        return [row.as_record() for row in self.changed_rows]


def _plain(text: str, op: diffing.Op) -> list[diffing.Change]:
    return [diffing.Change(op, text)] if text else []


def _kept_in_order(old_order: list[str], new_order: list[str], moved_keys: frozenset[str]) -> set[str]:
    """The largest set of keys whose order is the same in both lists (a longest common
    subsequence, weighted so that keys in `moved_keys` are the ones left out on a tie)."""
    if old_order == new_order:
        return set(old_order)
    weight = {key: (len(old_order) + 1) * 2 - (1 if key in moved_keys else 0) for key in old_order}
    position = {key: i for i, key in enumerate(new_order)}
    # best[i]: the heaviest increasing run (by position in new_order) ending at old_order[i].
    best: list[tuple[int, int]] = []  # (weight, previous index or -1)
    for i, key in enumerate(old_order):
        choice = (weight[key], -1)
        for j in range(i):
            if position[old_order[j]] < position[key] and best[j][0] + weight[key] > choice[0]:
                choice = (best[j][0] + weight[key], j)
        best.append(choice)
    if not best:
        return set()
    i = max(range(len(best)), key=lambda k: best[k][0])
    kept: set[str] = set()
    while i != -1:
        kept.add(old_order[i])
        i = best[i][1]
    return kept


def reordered_in_place(old_elements: Sequence[dict[str, Any]], new_elements: Sequence[dict[str, Any]]) -> bool:
    """Whether some element kept its parent but changed its order among its siblings: only then
    can the trees alone not tell which of them moved (and `moved_keys` matter)."""
    return bool(_moved_in_place(old_elements, {e["key"]: e for e in new_elements}, frozenset()))


def _moved_in_place(
    old_elements: Sequence[dict[str, Any]], new_by_key: dict[str, dict[str, Any]], moved_keys: frozenset[str]
) -> set[str]:
    """Keys that kept their parent but changed their order among the siblings of their kind that
    both trees share."""
    groups: dict[tuple[Any, str], list[str]] = {}
    for element in old_elements:
        new = new_by_key.get(element["key"])
        if new is not None and new["parent"] == element["parent"]:
            groups.setdefault((element["parent"], element["kind"]), []).append(element["key"])
    moved: set[str] = set()
    for keys in groups.values():
        new_order = sorted(keys, key=lambda key: _position(new_by_key[key]))
        moved.update(set(keys) - _kept_in_order(keys, new_order, moved_keys))
    return moved


def _position(element: dict[str, Any]) -> int:
    return int(element["number"].rsplit(".", 1)[-1]) if element["number"] else 0


def diff_documents(
    old_elements: Sequence[dict[str, Any]],
    new_elements: Sequence[dict[str, Any]],
    diff: DiffFunction = diffing.diff_words,
    moved_keys: frozenset[str] = frozenset(),
) -> DocumentDiff:
    """Match the two trees' elements by key and describe each (see the module docstring).
    `moved_keys`: elements known to have been moved (from the changelogs), preferred as the
    moved ones when the trees alone cannot tell which of two swapped siblings moved."""
    old_by_key = {e["key"]: e for e in old_elements}
    new_by_key = {e["key"]: e for e in new_elements}
    in_place = _moved_in_place(old_elements, new_by_key, moved_keys)
    removed_keys = {key for key in old_by_key if key not in new_by_key}
    counts = {"changed": 0, "added": 0, "removed": 0, "moved": 0, "renumbered": 0, "unchanged": 0}

    def describe(old: dict[str, Any] | None, new: dict[str, Any] | None) -> ElementDiff:
        element = new if new is not None else old
        assert element is not None
        if old is None:
            status: Status = "added"
            title = _plain(new["title"], "insert")  # type: ignore[index]
            body = _plain(new["body"], "insert")  # type: ignore[index]
        elif new is None:
            status = "removed"
            title = _plain(old["title"], "delete")
            body = _plain(old["body"], "delete")
        else:
            same_title = old["title"] == new["title"]
            same_body = old["body"] == new["body"]
            status = "unchanged" if same_title and same_body else "changed"
            title = _plain(new["title"], "equal") if same_title else diff(old["title"], new["title"])
            body = _plain(new["body"], "equal") if same_body else diff(old["body"], new["body"])
        row = ElementDiff(
            key=element["key"],
            kind=element["kind"],
            status=status,
            old=old,
            new=new,
            title=diffing.DiffViews(title),
            body=diffing.DiffViews(body),
            old_place=place_of(old, old_by_key) if old is not None else None,
            new_place=place_of(new, new_by_key) if new is not None else None,
        )
        if old is not None and new is not None:
            row.reparented = old["parent"] != new["parent"]
            row.moved = row.reparented or row.key in in_place
            row.renumbered = not row.moved and old["number"] != new["number"]
        elif new is None:
            parent = old["parent"]  # type: ignore[index]
            if parent in removed_keys:
                row.removed_with = old_by_key[parent]["label"]
            else:
                row.taken_with = [e for e in old_elements if _descends(e, element["key"], old_by_key)]
        counts[status] += 1
        if row.moved:
            counts["moved"] += 1
        elif row.renumbered:
            counts["renumbered"] += 1
        return row

    rows = [describe(old_by_key.get(e["key"]), e) for e in new_elements]

    # Slot each removed element in where it used to be: after the subtree of the sibling (or
    # after the parent) that preceded it in the older tree; a removed element's removed children
    # follow it.
    if len(old_by_key) > sum(1 for key in new_by_key if key in old_by_key):
        index = {row.key: i for i, row in enumerate(rows)}
        subtree_end: dict[str, int] = {}
        for i, row in enumerate(rows):
            ancestor: str | None = row.key
            while ancestor is not None:
                subtree_end[ancestor] = i
                ancestor = new_by_key[ancestor]["parent"]
        after: dict[int, list[ElementDiff]] = {}
        followers: dict[str, list[ElementDiff]] = {}
        last_kept: str | None = None
        for element in old_elements:
            key, parent = element["key"], element["parent"]
            if key not in removed_keys:
                last_kept = key if key in new_by_key else last_kept
                continue
            row = describe(element, None)
            if parent in removed_keys:
                followers.setdefault(parent, []).append(row)
                continue
            if last_kept is None:
                slot = -1
            elif last_kept == parent:
                slot = index[last_kept]
            else:
                climb: str | None = last_kept
                while climb is not None and new_by_key[climb]["parent"] != parent:
                    climb = new_by_key[climb]["parent"]
                slot = subtree_end[climb if climb is not None else last_kept]
            after.setdefault(slot, []).append(row)

        ordered: list[ElementDiff] = []

        def emit(row: ElementDiff) -> None:
            ordered.append(row)
            for follower in followers.get(row.key, []):
                emit(follower)

        for row in after.get(-1, []):
            emit(row)
        for i, row in enumerate(rows):
            ordered.append(row)
            for removed_row in after.get(i, []):
                emit(removed_row)
        rows = ordered
    return DocumentDiff(rows=rows, counts=counts)


def text_changed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    """Whether an element's words differ between two trees (added and removed count)."""
    if old is None or new is None:
        return old is not new
    return old["title"] != new["title"] or old["body"] != new["body"]


def _descends(element: dict[str, Any], ancestor: str, by_key: dict[str, dict[str, Any]]) -> bool:
    parent = element["parent"]
    while parent is not None:
        if parent == ancestor:
            return True
        parent = by_key[parent]["parent"] if parent in by_key else None
    return False


def _no_words(old: str, new: str) -> list[diffing.Change]:
    return []


def outline_diff(
    old_elements: Sequence[dict[str, Any]], new_elements: Sequence[dict[str, Any]], moved_keys: frozenset[str] = frozenset()
) -> DocumentDiff:
    """What happened to the outline between two trees (added, removed, moved and renumbered
    elements, and which ones were reworded) without diffing any words: cheap enough to run at
    publish and for every version of a timeline. Its rows' title and body diffs are empty."""
    return diff_documents(old_elements, new_elements, _no_words, moved_keys)
