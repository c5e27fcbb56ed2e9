"""The move kind of proposal: put an element under another ambition, or at another position among
its siblings (issue 16).

A move proposes no new words: its title and body are its base text's, so that everything that
shows a proposal as a change of its base text shows none, and its only changed "range" is the
element's place (`PLACE`), so that two moves of one element compete with each other and with no
edit. Where it goes is kept on the proposal (`target_parent_id`, `target_position`) and checked by
the one rule for moves (`drafting.structure.plan_move`), when proposed, revised and accepted.
Only the rationale and the target are written, and revised. `kinds.py` registers this module as
the kind "move"; `facilitation/move.py` plans and applies it at acceptance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import ElementText, Proposal
from ..visions.snapshots import KIND_PLURALS
from . import edit
from .edit import ProposalText

NAME = "move"

# The changed "range" of every move: its element's place. Two moves of one element overlap there.
PLACE = "place"


def clean_rationale(rationale: str | None) -> str:
    """The reason for a move, cleaned (edit.clean_rationale)."""
    return edit.clean_rationale(rationale, "Explain why you propose to move it")


def checked_text(
    title: str | None, body: str | None, rationale: str | None, base: ElementText, *, against_current: bool
) -> ProposalText:
    """A move's words: its base text unchanged (whatever was sent), and its rationale, checked."""
    return ProposalText(base.title, base.body, clean_rationale(rationale))


def changed_ranges(base: ElementText, title: str, body: str) -> dict[str, list[list[int]]]:
    """No words: only the element's place, which every other move of it changes too."""
    return {PLACE: [[0, 1]]}


@dataclass(frozen=True)
class MoveInWords:
    """A proposal to move, said in words against the working draft as it is: `sentence` ("To move
    Objective 1.2 from Ambition 1, position 2, to Ambition 2, position 1") and `conflicted` when
    the ambition it would go under is no longer in the working draft."""

    sentence: str
    conflicted: bool


def in_words(proposal: Proposal, tree: list[dict[str, Any]], target_key: str | None) -> MoveInWords:
    """The move of `proposal` in words, from the working tree (`visions.services.working_tree`) and
    the key of the ambition it would go under (None: the top level). Reads nothing from the
    database. While the proposal is open it says where the element is now; once decided, only
    where it was to go (the element may have moved since)."""
    by_key = {row["key"]: row for row in tree}
    here = by_key.get(proposal.element.key)
    label = here["label"] if here else "the element"
    kind = proposal.element.kind
    position = proposal.target_position
    if target_key is None:
        target = f"position {position} among the {KIND_PLURALS.get(kind, 'elements').lower()}"
        conflicted = False
    elif target_key in by_key:
        target = f"{by_key[target_key]['label']}, position {position}"
        conflicted = False
    else:
        target = f"an ambition that has been removed from the working draft (position {position})"
        conflicted = True
    if here is None or proposal.status != "open":
        return MoveInWords(f"To move {label} to {target}", conflicted)
    siblings = [row["key"] for row in tree if row["kind"] == kind and row["parent"] == here["parent"]]
    place = siblings.index(here["key"]) + 1
    origin = f"{by_key[here['parent']]['label']}, position {place}" if here["parent"] in by_key else f"position {place}"
    if target_key is None:
        return MoveInWords(f"To move {label} from position {place} to {target}", conflicted)
    return MoveInWords(f"To move {label} from {origin}, to {target}", conflicted)
