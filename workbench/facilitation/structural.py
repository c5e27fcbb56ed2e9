"""What the accept pages of the proposals that change the draft's structure (to remove, move or add
an element: `remove.py`, `move.py`, `add.py`) have in common: the plan they show, started the same
way against the element's working text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from ..models import DraftEntry, ElementText, Proposal, Vision
from ..proposals.rebase import draft_entry
from ..visions.services import element_removal

Plan = TypeVar("Plan", bound="StructuralPlan")


@dataclass
class StructuralPlan:
    """What the accept page of a removal, move or addition shows. `mode` is `accepting` (the kind's
    name, e.g. "move") while it can be accepted, or says why not ("removed", "refused",
    "conflicted", said in `refusal`); `reason` is why the page is shown again after a POST (see
    `edit.AcceptPlan`). No text is typed at acceptance: `result` and `conflicts` stay empty."""

    template: ClassVar[str]
    accepting: ClassVar[str]  # the mode in which it can be accepted: the kind's name

    mode: str
    reason: str | None
    base: ElementText
    current: ElementText | None
    expected_text_id: int | None
    revision: int
    refusal: str | None = None
    result: Any = None
    conflicts: list[Any] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return False  # a move or an addition proposes no words: the text it keeps is whatever is there

    @classmethod
    def against_draft(cls: type[Plan], proposal: Proposal, reason: str | None) -> tuple[Plan, DraftEntry | None]:
        """The plan, acceptable as far as it goes (`mode` is `accepting`), against the working text of the
        element the proposal is filed under (None when it has left the draft), and its draft entry."""
        entry = draft_entry(proposal.element_id)
        current = entry.text if entry is not None and not entry.is_removed else None
        planned = cls(
            mode=cls.accepting, reason=reason, base=proposal.base_text, current=current,
            expected_text_id=current.id if current is not None else None, revision=proposal.revision_count,
        )
        return planned, entry


def ambition_removed(vision: Vision, key: str, *, would: str, change: str) -> str:
    """Why a move or an addition cannot be made: the ambition it would go under (`key`) has been
    removed from the working draft; named as it last was ("Ambition 2, the ambition this proposal
    would `would`, has been removed ..., so the `change` cannot be made")."""
    removal = element_removal(vision, key)
    name = removal.last_label if removal else "The ambition it would go under"
    return f"{name}, the ambition this proposal would {would}, has been removed from the working draft, so the {change} cannot be made"
