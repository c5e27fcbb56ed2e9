"""The kinds of proposal (`Proposal.kind`), each in a module of its own, found here by name.

A kind module says what a proposal of that kind proposes: how its text is checked
(`checked_text`) and what it changes in its base (`changed_ranges`): an edit (`edit.py`), a removal
(`remove.py`), a move (`move.py`) or an addition (`add.py`). Adding a kind means one module here (registered in KINDS), one in
`facilitation/` that plans and applies it at acceptance (registered in `facilitation/decisions.py`),
and its templates. A proposal of a kind this code does not know is refused in words, never a 500.
"""

from __future__ import annotations

from typing import Protocol

from ..exceptions import WrongState
from ..models import ElementText, Proposal
from . import add, edit, move, remove


class ProposalKind(Protocol):
    """What a kind module offers (a module is the kind: `edit` is one)."""

    NAME: str

    def checked_text(
        self, title: str | None, body: str | None, rationale: str | None, base: ElementText, *, against_current: bool
    ) -> edit.ProposalText: ...

    def changed_ranges(self, base: ElementText, title: str, body: str) -> dict[str, list[list[int]]]: ...


KINDS: dict[str, ProposalKind] = {edit.NAME: edit, remove.NAME: remove, move.NAME: move, add.NAME: add}


def unknown_kind(proposal: Proposal) -> WrongState:
    """The refusal for a proposal whose kind this code does not know (e.g. written by a newer
    version, or imported): it can be read and rejected, not changed or accepted."""
    return WrongState(
        f"Proposal {proposal.id} is of a kind this workbench does not know (“{proposal.kind}”), "
        "so it cannot be changed or accepted here. A facilitator can still reject it with a reason."
    )


def kind_of(proposal: Proposal) -> ProposalKind:
    """The module of the proposal's kind; raises WrongState (`unknown_kind`) for an unknown kind."""
    kind = KINDS.get(proposal.kind)
    if kind is None:
        raise unknown_kind(proposal)
    return kind
