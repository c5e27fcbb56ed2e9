"""Whole-document diffs between two trees of elements (two versions, or a version and the draft).

Pure functions over the snapshot's element dicts (see workbench/visions/snapshots.py): no Flask, no
database. Elements are matched by their stable key, never by position, so that

- an element only in the newer tree is *added*, one only in the older tree *removed*;
- an element in both whose title or body differs is *changed* (with word diffs of each);
- an element in both whose parent or display number differs is *moved* (a renumbering, such as
  "Objective 2.3" becoming "Objective 2.2" after an earlier objective was removed, is a move too:
  the words a reader cites changed).

Rows come in the newer tree's document order; removed elements are slotted in after what preceded
them in the older tree, so that a reader sees them where they used to be.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import diffing
from ..text_diff import TextDiff

Status = Literal["added", "removed", "changed", "unchanged"]

# (old text, new text) -> word diff. Callers may pass a cached one (text pairs never change).
DiffFunction = Callable[[str, str], Sequence[diffing.Change]]


@dataclass
class ElementDiff(TextDiff):
    """One element in a document diff: the change of its title and body (a TextDiff, from old to
    new: all added for an added element, all removed for a removed one) and of its place.

    ``old`` / ``new`` are the element's dicts in each tree (None where it does not exist).
    ``has_changes`` is wider than a TextDiff's: a moved or renumbered element differs too.
    """

    key: str
    kind: str
    status: Status
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    moved: bool = False
    reparented: bool = False
    old_parent_label: str | None = None
    new_parent_label: str | None = None

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
        return self.status != "unchanged" or self.moved

    @property
    def status_words(self) -> list[str]:
        """The change in words, for a tag beside the heading: ["Changed", "Moved"] and so on."""
        words = {"added": ["Added"], "removed": ["Removed"], "changed": ["Text changed"], "unchanged": []}[
            self.status
        ]
        if self.moved:
            words = [*words, "Moved" if self.reparented else "Renumbered"]
        return words

    @property
    def move_description(self) -> str:
        """E.g. "Was Objective 1.3, under Ambition 1; now Objective 2.1, under Ambition 2"."""
        if not self.moved or self.old is None or self.new is None:
            return ""
        if self.reparented:
            return (
                f"Was {self.old['label']}, under {self.old_parent_label or 'the top level'}; "
                f"now {self.new['label']}, under {self.new_parent_label or 'the top level'}."
            )
        return f"Was {self.old['label']}; now {self.new['label']}."


@dataclass
class DocumentDiff:
    """Every element of both trees, in reading order, with what happened to it."""

    rows: list[ElementDiff]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed_rows(self) -> list[ElementDiff]:
        return [row for row in self.rows if row.has_changes]

    @property
    def has_changes(self) -> bool:
        return any(row.has_changes for row in self.rows)

    @property
    def summary(self) -> str:
        """E.g. "2 elements changed, 1 added, 1 removed and 3 moved or renumbered"."""
        parts = []
        for name, words in (
            ("changed", "changed"),
            ("added", "added"),
            ("removed", "removed"),
            ("moved", "moved or renumbered"),
        ):
            n = self.counts.get(name, 0)
            if n:
                parts.append(f"{n} {words}")
        if not parts:
            return "No changes"
        total = sum(1 for row in self.rows if row.has_changes)
        first = f"{total} element{' differs' if total == 1 else 's differ'}"
        if len(parts) == 1:
            return f"{first}: {parts[0]}"
        return f"{first}: {', '.join(parts[:-1])} and {parts[-1]}"


def _plain(text: str, op: diffing.Op) -> list[diffing.Change]:
    return [diffing.Change(op, text)] if text else []


def diff_documents(
    old_elements: Sequence[dict[str, Any]],
    new_elements: Sequence[dict[str, Any]],
    diff: DiffFunction = diffing.diff_words,
) -> DocumentDiff:
    """Match the two trees' elements by key and describe each (see the module docstring)."""
    old_by_key = {e["key"]: e for e in old_elements}
    new_by_key = {e["key"]: e for e in new_elements}
    counts = {"changed": 0, "added": 0, "removed": 0, "moved": 0, "unchanged": 0}

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
        )
        if old is not None and new is not None:
            row.reparented = old["parent"] != new["parent"]
            row.moved = row.reparented or old["number"] != new["number"]
            if row.reparented:
                row.old_parent_label = old_by_key[old["parent"]]["label"] if old["parent"] else None
                row.new_parent_label = new_by_key[new["parent"]]["label"] if new["parent"] else None
        counts[status] += 1
        if row.moved:
            counts["moved"] += 1
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
        removed_keys = {key for key in old_by_key if key not in new_by_key}
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
