"""The add kind of proposal: a new objective or enabling condition under an ambition, or a new
ambition (issue 16).

An addition proposes a whole new element: its title (required) and body are the proposal's, checked
as an edit's text is (`edit.clean_proposal_text`), and shown as an insertion. What kind of element
it adds is kept on the proposal (`new_element_kind`), where it would go too (`target_parent_id`,
None for an ambition at the top level, and `target_position`), checked by the one rule for that
(`drafting.structure.plan_addition`) when proposed, revised and accepted.

A proposal needs an element to be filed under (`Proposal.element_id`): an addition is filed under
the ambition it would go under, or under the vision statement for a new ambition (ambitions
underpin the statement). So its followers hear of it, it is listed among that element's open
proposals, and accepting a removal of the ambition closes it like the ambition's other proposals.
It changes none of that element's words (`changed_ranges` is empty), so it competes with nothing.

`kinds.py` registers this module as the kind "add"; `facilitation/add.py` plans and applies it at
acceptance, creating the element with a new key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..exceptions import ValidationError
from ..models import Element, ElementText, Proposal
from ..validation import clean_text
from ..visions.snapshots import KIND_NAMES, KIND_PLURALS
from . import edit
from .edit import ProposalText

NAME = "add"

# What may be added under which element the proposal is filed under (the page it is proposed from).
NEW_KINDS_UNDER = {"ambition": ("objective", "condition"), "statement": ("ambition",)}

WRONG_PLACE = (
    "New elements are proposed under an ambition (a new objective or enabling condition), or under the "
    "vision statement (a new ambition): open an ambition, or the vision statement, and propose it there"
)


def kind_choices(anchor_kind: str) -> list[tuple[str, str]]:
    """The kinds a person may propose under an element of `anchor_kind`, as (value, words)."""
    return [(kind, KIND_NAMES[kind]) for kind in NEW_KINDS_UNDER.get(anchor_kind, ())]


def check_kind(anchor_kind: str, kind: str | None) -> str:
    """`kind`, when it may be added under an element of `anchor_kind`; otherwise ValidationError
    ("form" under an element that takes no new elements, "kind" for a kind it does not take)."""
    allowed = NEW_KINDS_UNDER.get(anchor_kind)
    if not allowed:
        raise ValidationError({"form": WRONG_PLACE})
    if kind not in allowed:
        words = " or ".join(KIND_NAMES[k].lower() for k in allowed)
        article = "an" if words[0] in "aeiou" else "a"
        raise ValidationError({"kind": f"Choose what to add here: {article} {words}"})
    return kind


def checked_text(
    title: str | None, body: str | None, rationale: str | None, base: ElementText, *, against_current: bool
) -> ProposalText:
    """The new element's title (required: every ambition, objective and enabling condition has
    one) and body, and the reason, checked as an edit's text is (`edit.clean_proposal_text`);
    every problem at once, as ValidationError per field. `base` is the text of the element it is
    filed under, which it does not change."""
    errors: dict[str, list[str]] = {}
    text: ProposalText | None = None
    try:
        text = edit.clean_proposal_text(title, body, rationale)
    except ValidationError as error:
        errors = dict(error.errors)
    if "title" not in errors and not clean_text(title or "", multiline=False):
        errors["title"] = ["Enter a title for the new element"]
    if errors or text is None:
        raise ValidationError(errors)
    return text


def changed_ranges(base: ElementText, title: str, body: str) -> dict[str, list[list[int]]]:
    """None: an addition changes no words of the element it is filed under."""
    return {}


def shown_against(proposal: Proposal, base: ElementText) -> tuple[str, str]:
    """The title and body a proposal's words are shown against (as a diff): its base text, or
    nothing for an addition, whose words are all new (shown as an insertion)."""
    return ("", "") if proposal.kind == NAME else (base.title, base.body)


@dataclass(frozen=True)
class AdditionInWords:
    """A proposal to add, said in words against the working draft as it is: `sentence` ("New
    objective under Ambition 2, at position 3"; once accepted, "Added as Objective 2.3") and
    `conflicted` when the ambition it would go under is no longer in the working draft; `what` it
    adds ("a new objective")."""

    sentence: str
    conflicted: bool
    what: str


def in_words(proposal: Proposal, tree: list[dict[str, Any]], added: Element | None = None) -> AdditionInWords:
    """The addition of `proposal` in words, from the working tree (`visions.services.working_tree`)
    and, once accepted, the element it created (`added`). Reads nothing from the database: the
    ambition it goes under is the element it is filed under (`proposal.element`)."""
    kind = proposal.new_element_kind or "element"
    name = KIND_NAMES.get(kind, "Element").lower()
    what = f"a new {name}"
    position = proposal.target_position
    by_key = {row["key"]: row for row in tree}
    if added is not None and added.key in by_key:
        return AdditionInWords(f"Added as {by_key[added.key]['label']}", False, what)
    if proposal.target_parent_id is None:
        plural = KIND_PLURALS.get(kind, "elements").lower()
        return AdditionInWords(f"New {name}, at position {position} among the {plural}", False, what)
    parent = by_key.get(proposal.element.key)
    if parent is None:
        return AdditionInWords(
            f"New {name} under an ambition that has been removed from the working draft (position {position})", True, what
        )
    return AdditionInWords(f"New {name} under {parent['label']}, at position {position}", False, what)
