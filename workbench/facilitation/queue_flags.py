"""The queue's flags that need more than SQL: conflicted (stale, and the strict rebase fails) and
competing (another open proposal on the same element and base changes overlapping words), for the
proposals a queue page or a flag filter looks at; and the columns the queue reads for them.

Competition is decided from the changed ranges stored with each revision (no word diff), per group
of open proposals on one element and base text, and kept per process (`rivals_in_groups`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, select

from .. import diffing
from ..caching import app_cache
from ..models import DraftEntry, Element, Proposal, db, waiting
from ..proposals.rebase import Texts, rebases_cleanly, texts_by_id

# Each shown proposal's element key and working-draft entry, read for the rows a query returns (the
# queue's queries read proposals alone, so that a page walks one index of proposals and stops).
ELEMENT_KEY = select(Element.key).where(Element.id == Proposal.element_id).scalar_subquery().label("key")
ENTRY_TEXT = select(DraftEntry.text_id).where(DraftEntry.element_id == Proposal.element_id).scalar_subquery().label("text_id")
ENTRY_REMOVED = (
    select(DraftEntry.is_removed).where(DraftEntry.element_id == Proposal.element_id).scalar_subquery().label("is_removed")
)


NO_TEXTS = Texts("", "")  # for candidates only checked for competition (which reads stored ranges)


@dataclass(frozen=True)
class Candidate:
    id: int
    element_id: int
    base_text_id: int
    current_text_id: int
    removed: bool
    title: str
    body: str


def flag_details(
    candidates: Sequence[Candidate], *, conflicts: bool = True, competition: bool = True
) -> tuple[dict[int, bool], dict[int, list[int]]]:
    """Conflicted (stale ones only) and competing ids for the given proposals; at most three queries.

    Competing: another open, visible proposal on the same element and the same base whose changed
    ranges overlap (`diffing.fields_compete`; see `rivals_in_groups`). Either half can be skipped (then its
    dict is empty).
    """
    if not candidates:
        return {}, {}
    base_ids = {c.base_text_id for c in candidates}
    groups: dict[tuple[int, int], frozenset[str]] = {}
    if competition:
        # Each group's members as "id.revision" strings, aggregated by the database: one row per
        # group instead of one per open proposal (7,000 in the benchmark).
        member = cast(Proposal.id, String) + "." + cast(Proposal.revision_count, String)
        groups = {
            (element_id, base_text_id): frozenset(members.split(","))
            for element_id, base_text_id, members in db.session.execute(
                select(Proposal.element_id, Proposal.base_text_id, func.aggregate_strings(member, ","))
                .where(
                    Proposal.element_id.in_({c.element_id for c in candidates}),
                    Proposal.base_text_id.in_(base_ids),
                    waiting(),
                )
                .group_by(Proposal.element_id, Proposal.base_text_id)
            )
        }
    stale_current = {c.current_text_id for c in candidates if c.base_text_id != c.current_text_id} if conflicts else set()
    texts = texts_by_id({c.base_text_id for c in candidates if c.current_text_id in stale_current} | stale_current)

    conflicted: dict[int, bool] = {}
    if conflicts:
        for c in candidates:
            if c.removed:
                conflicted[c.id] = True
            elif c.base_text_id != c.current_text_id:
                conflicted[c.id] = not rebases_cleanly(texts[c.base_text_id], c, texts[c.current_text_id])
            else:
                conflicted[c.id] = False

    competing: dict[int, list[int]] = {}
    if competition:
        rivals = rivals_in_groups(groups)
        for c in candidates:
            competing[c.id] = list(rivals.get((c.element_id, c.base_text_id), {}).get(c.id, ()))
    return conflicted, competing


def rivals_in_groups(groups: dict[tuple[int, int], frozenset[str]]) -> dict[tuple[int, int], dict[int, tuple[int, ...]]]:
    """For every group (the open proposals on one element written against one text, as a set of
    "id.revision" strings), each member's id with the ids of those in its group it competes with.

    A group's answer depends only on its members' revisions, so it is kept per process, keyed by
    (element, base text, members and their revision numbers): a new, revised, withdrawn or decided
    proposal makes a new key. For groups not yet known, the members' stored changed ranges are
    read in one query (no word diff: they were computed when each revision was written).
    """
    cache = app_cache("competition", 1024)
    found: dict[tuple[int, int], dict[int, tuple[int, ...]]] = {}
    missing = []
    for group, members in groups.items():
        answer = cache.get((group, members))
        if answer is None:
            missing.append(group)
        else:
            found[group] = answer
    if missing:
        wanted = {group: dict(_id_and_revision(m) for m in groups[group]) for group in missing}
        ids = [proposal_id for members in wanted.values() for proposal_id in members]
        proposed = {
            row.id: row
            for row in db.session.execute(
                select(Proposal.id, Proposal.revision_count, Proposal.changed_ranges).where(Proposal.id.in_(ids))
            )
        }
        for group in missing:
            members = [proposed[i] for i, revision in wanted[group].items() if i in proposed and proposed[i].revision_count == revision]
            rivals: dict[int, list[int]] = {m.id: [] for m in members}
            for a, b in sorted(diffing.competing_pairs({m.id: m.changed_ranges for m in members})):
                rivals[a].append(b)
                rivals[b].append(a)
            answer = {i: tuple(r) for i, r in rivals.items()}
            found[group] = answer
            if len(members) == len(wanted[group]):  # nobody revised meanwhile: safe to keep
                cache.put((group, groups[group]), answer)
    return found


def _id_and_revision(member: str) -> tuple[int, int]:
    proposal_id, revision = member.split(".")
    return int(proposal_id), int(revision)


def candidate(row: Any, texts: Any = None) -> Candidate:
    """A candidate from a row of CANDIDATE_COLUMNS, with its title and body from the row (with
    TEXT_COLUMNS) or from `texts` (the loaded Proposal, or NO_TEXTS)."""
    texts = row if texts is None else texts
    return Candidate(
        id=row.id,
        element_id=row.element_id,
        base_text_id=row.base_text_id,
        current_text_id=row.text_id,
        removed=bool(row.is_removed),
        title=texts.title,
        body=texts.body,
    )


CANDIDATE_COLUMNS = (Proposal.id, Proposal.element_id, Proposal.base_text_id, ENTRY_TEXT, ENTRY_REMOVED)
TEXT_COLUMNS = (Proposal.title, Proposal.body)
