"""Loading a proposal for a view: the one place that turns an unknown or hidden proposal into a 404."""

from __future__ import annotations

from typing import TypeVar

from flask import abort
from flask_login import current_user

from ..models import Proposal
from ..permissions import can_see_contribution
from .services import load_proposal

P = TypeVar("P")


def visible_proposal_or_404(proposal_id: int, *, for_update: bool = False, details: bool = True) -> Proposal:
    """The proposal (see `load_proposal` for `for_update` and `details`), or 404; hidden proposals
    are a 404 for all but their author and facilitators."""
    return visible_or_404(load_proposal(proposal_id, for_update=for_update, details=details))


def visible_or_404(proposal: P | None) -> P:
    """`proposal` however it was read (a Proposal, or the columns a vote reads), or 404 when there
    is none or it is hidden from the reader."""
    if proposal is None or not can_see_contribution(current_user, proposal):
        abort(404)
    return proposal
