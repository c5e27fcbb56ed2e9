"""The remove kind of proposal: take an element, and everything under it, out of the vision.

A removal proposes no text: its title and body are empty, so that everything that shows a
proposal as a change of its base text (the proposal page, the lists, the queue) shows the element's
text as a deletion, and its changed ranges cover the whole text, so that every edit written against
the same text competes with it. Only its rationale is written, and revised. `kinds.py` registers
this module as the kind "remove"; `facilitation/remove.py` plans and applies it at acceptance.
"""

from __future__ import annotations

from ..models import ElementText
from . import edit
from .edit import ProposalText

NAME = "remove"


def clean_rationale(rationale: str | None) -> str:
    """The reason for a removal, cleaned (edit.clean_rationale)."""
    return edit.clean_rationale(rationale, "Explain why you propose to remove it")


def checked_text(
    title: str | None, body: str | None, rationale: str | None, base: ElementText, *, against_current: bool
) -> ProposalText:
    """A removal's words: no title, no body (whatever was sent), and its rationale, checked."""
    return ProposalText("", "", clean_rationale(rationale))


def changed_ranges(base: ElementText, title: str, body: str) -> dict[str, list[list[int]]]:
    """All of the base text: a removal changes every word of it."""
    return edit.changed_ranges(base, "", "")
