"""Self-contained snapshots of a vision's tree, their display numbering, canonical JSON and hash.

A snapshot is what a published version *is*: permalinks render only from it. It is a plain dict:

    {"schema": 1,
     "vision": {"slug", "title", "summary"},
     "number": n, "published_at": ISO 8601 UTC,
     "elements": [ {"key", "kind", "number", "label", "title", "body", "parent", "text_id"}, ... ]}

`elements` is in document order (each element followed by its children); `number` is the display
number ("", "2", "2.3"), `label` the words a reader sees ("Ambition 2", "Objective 2.3"), `parent` the
parent's key or None. The content hash is the sha256 of the canonical JSON (sorted keys, no spaces,
UTF-8), which is also what is stored, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

SCHEMA = 1

KIND_NAMES = {
    "statement": "Vision statement",
    "ambition": "Ambition",
    "objective": "Objective",
    "condition": "Enabling condition",
}
KIND_PLURALS = {
    "statement": "Vision statements",
    "ambition": "Ambitions",
    "objective": "Objectives",
    "condition": "Enabling conditions",
}
# Children are shown objectives first, then enabling conditions, each in position order.
KIND_ORDER = {"statement": 0, "ambition": 1, "objective": 2, "condition": 3}


@dataclass(frozen=True)
class TreeRow:
    """One element of the working draft, as the snapshot needs it."""

    key: str
    kind: str
    parent: str | None
    position: int
    title: str
    body: str
    text_id: int


def number_tree(rows: Iterable[TreeRow]) -> list[dict[str, Any]]:
    """Order rows as a document and give each its display number and label."""
    rows = list(rows)
    children: dict[str | None, list[TreeRow]] = {}
    for row in rows:
        children.setdefault(row.parent, []).append(row)
    for siblings in children.values():
        siblings.sort(key=lambda r: (KIND_ORDER[r.kind], r.position, r.key))

    ordered: list[dict[str, Any]] = []

    def visit(parent: str | None, prefix: str) -> None:
        counters: dict[str, int] = {}
        for row in children.get(parent, []):
            if row.kind == "statement":
                number = ""
            else:
                counters[row.kind] = counters.get(row.kind, 0) + 1
                number = f"{prefix}{counters[row.kind]}"
            label = KIND_NAMES[row.kind] + (f" {number}" if number else "")
            ordered.append(
                {
                    "key": row.key,
                    "kind": row.kind,
                    "number": number,
                    "label": label,
                    "title": row.title,
                    "body": row.body,
                    "parent": row.parent,
                    "text_id": row.text_id,
                }
            )
            visit(row.key, f"{number}." if number else "")

    visit(None, "")
    return ordered


def build_snapshot(
    *, slug: str, title: str, summary: str, number: int, published_at: datetime, rows: Iterable[TreeRow]
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "vision": {"slug": slug, "title": title, "summary": summary},
        "number": number,
        "published_at": published_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "elements": number_tree(rows),
    }


def canonical_json(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def nested_elements(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The open-data shape: each element with its `children`, without internal ids."""
    by_key: dict[str, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for element in elements:
        node = {
            "key": element["key"],
            "kind": element["kind"],
            "number": element["number"],
            "label": element["label"],
            "title": element["title"],
            "body": element["body"],
            "children": [],
        }
        by_key[element["key"]] = node
        if element["parent"] is None:
            roots.append(node)
        else:
            by_key[element["parent"]]["children"].append(node)
    return roots


def paragraphs(body: str) -> list[str]:
    """Body text is paragraphs separated by a blank line."""
    return [p for p in body.split("\n\n") if p.strip()]
