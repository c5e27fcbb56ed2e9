"""What the proposal page shows of this feature: the decision panel and the rebase offer.

The proposals feature's page includes `facilitation/_decision_panel.html` and
`facilitation/_rebase_offer.html`, which read these through the template globals
`facilitation_decision` and `facilitation_rebase_offer` (registered in `views.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import diffing, permissions
from ..models import Proposal, ProposalStatus, User, db
from ..proposals.rebase import Staleness, staleness_now, texts_by_id
from ..proposals.services import status_label
from ..text_diff import TextDiff


@dataclass
class Decision:
    """The decision on a proposal, in words, and what the signed-in person may do about it."""

    status: str
    label: str  # "Open", "Accepted", "Accepted with changes", "Rejected", "Withdrawn"
    decided_by: str = ""
    decided_at: datetime | None = None
    note: str = ""
    # Accepted with changes: base -> proposal and proposal -> accepted.
    proposed_diff: TextDiff | None = None
    changes_diff: TextDiff | None = None
    can_accept: bool = False
    can_reject: bool = False
    can_reopen: bool = False
    reopen_blocked: str = ""  # why a facilitator cannot reopen it now, in words
    own_proposal: bool = False  # a facilitator looking at their own proposal


def decision_for(proposal: Proposal, user: Any) -> Decision:
    """The decision panel's content for `proposal` as seen by `user`; at most two queries."""
    decision = Decision(status=proposal.status, label=status_label(proposal), note=proposal.decision_reason)
    if proposal.decided_by_id is not None:
        person = db.session.get(User, proposal.decided_by_id)
        decision.decided_by = person.public_name if person is not None else ""
        decision.decided_at = proposal.decided_at
    if (
        proposal.status == ProposalStatus.ACCEPTED.value
        and proposal.accepted_with_changes
        and proposal.result_text_id is not None
    ):
        texts = texts_by_id({proposal.base_text_id, proposal.result_text_id})
        base, result = texts[proposal.base_text_id], texts[proposal.result_text_id]
        decision.proposed_diff = TextDiff.between(base.title, base.body, proposal.title, proposal.body)
        decision.changes_diff = TextDiff.between(proposal.title, proposal.body, result.title, result.body)
    decision.can_accept = decision.can_reject = permissions.can_decide_proposal(user, proposal)
    decision.own_proposal = permissions.is_facilitator(user) and user.id == proposal.author_id
    if permissions.is_facilitator(user) and proposal.status == ProposalStatus.REJECTED.value:
        decision.can_reopen = permissions.can_reopen_proposal(user, proposal)
        if not decision.can_reopen:
            decision.reopen_blocked = "It can be reopened while the consultation window is open."
    return decision


@dataclass
class RebaseOffer:
    """How an open proposal stands against the current working text, for its author and facilitators."""

    stale: bool
    removed: bool = False
    clean: bool = True
    diff: TextDiff | None = None  # current -> rebased, when clean
    conflicts: list[diffing.Conflict] = field(default_factory=list)
    current_title: str = ""  # the element's working text now, shown beside a conflict
    current_body: str = ""
    can_rebase: bool = False  # the author may update it with one click
    is_facilitator: bool = False
    is_author: bool = False

    @property
    def shown(self) -> bool:
        """Shown to everyone while the proposal is open and stale: the flags are public."""
        return self.stale


def rebase_offer(proposal: Proposal, user: Any, stale: Staleness | None = None) -> RebaseOffer:
    """The rebase offer for the proposal page. `stale` is the proposal's `Staleness` when the page
    has it already; otherwise it is read here (`staleness_now`: two queries and a rebase)."""
    is_author = permissions.is_member(user) and user.id == proposal.author_id
    offer = RebaseOffer(stale=False, is_author=is_author, is_facilitator=permissions.is_facilitator(user))
    if proposal.status != ProposalStatus.OPEN.value:
        return offer
    if stale is None:
        stale = staleness_now(proposal)
    if not stale.stale:
        return offer
    offer.stale, offer.removed = True, stale.removed
    offer.clean = stale.clean and not stale.removed
    offer.diff, offer.conflicts = stale.diff, list(stale.conflicts)
    offer.current_title, offer.current_body = stale.current_title, stale.current_body
    offer.can_rebase = offer.clean and permissions.can_rebase_proposal(user, proposal)
    return offer
