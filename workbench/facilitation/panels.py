"""What the proposal page shows of this feature: the decision panel and the rebase offer.

The proposals feature's page includes `facilitation/_decision_panel.html` and
`facilitation/_rebase_offer.html`, which read these through the template globals
`facilitation_decision` and `facilitation_rebase_offer` (registered in `views.py`).

The decision panel shows every decision on the proposal, oldest first, read from its audit events
(`decision_history`), and for an accept with changes its resolve record: what the author proposed,
what changed in the working text meanwhile, and what the facilitator changed themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from .. import diffing, permissions
from ..models import AuditEvent, Proposal, ProposalStatus, User, db
from ..proposals.rebase import Staleness, staleness_now, texts_by_id
from ..proposals.services import status_label
from ..text_diff import TextDiff


FORMER_PARTICIPANT = "a former participant"

# The audit events that are decisions on a proposal (withdrawal is its author's, shown beside them).
DECISION_EVENTS = {
    "proposal.accepted": "Accepted",
    "proposal.rejected": "Rejected",
    "proposal.reopened": "Reopened",
    "proposal.withdrawn": "Withdrawn",
}


@dataclass(frozen=True)
class PastDecision:
    """One decision in a proposal's history, in words."""

    label: str  # "Accepted", "Accepted with changes", "Rejected", "Reopened", "Withdrawn"
    by: str  # the person's public name; "" when nobody is recorded
    at: datetime | None
    text: str = ""  # the facilitator's note on an accept, or the reason for a rejection
    details: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def text_label(self) -> str:
        return "Reason" if self.label == "Rejected" else "Note"


def decision_history(proposal: Proposal) -> list[PastDecision]:
    """Every decision on the proposal, oldest first, from its audit events: one query however many.

    A proposal decided before its decisions were recorded as events (or loaded in bulk) gets its
    current decision alone, from its own fields (then one more query, for the decider's name).
    """
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.created_at, AuditEvent.details, User.display_name, User.is_deleted)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.subject_type == "proposal",
            AuditEvent.subject_id == proposal.id,
            AuditEvent.action.in_(tuple(DECISION_EVENTS)),
        )
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    history = [
        _past(row.action, row.created_at, row.details or {}, _name(row.display_name, row.is_deleted), proposal.id)
        for row in rows
    ]
    if not history and proposal.decided_at is not None:
        person = db.session.get(User, proposal.decided_by_id) if proposal.decided_by_id is not None else None
        history.append(
            PastDecision(
                label=status_label(proposal),
                by=_name(person.display_name, person.is_deleted) if person is not None else "",
                at=proposal.decided_at,
                text=proposal.decision_reason,
            )
        )
    return history


def _name(display_name: str | None, is_deleted: bool | None) -> str:
    if display_name is None:
        return ""
    return FORMER_PARTICIPANT if is_deleted else display_name


def _joined(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _past(action: str, at: datetime, details: dict[str, Any], by: str, proposal_id: int | None = None) -> PastDecision:
    label = DECISION_EVENTS[action]
    if action == "proposal.accepted" and details.get("with_changes"):
        label = "Accepted with changes"
    elif action == "proposal.accepted" and details.get("mode") == "together":
        others = [f"proposal {n}" for n in details.get("together") or () if isinstance(n, int) and n != proposal_id]
        label = "Accepted together with " + _joined(others) if others else label
    text = "" if action == "proposal.reopened" else str(details.get("note") or details.get("reason") or "")
    return PastDecision(label=label, by=by, at=at, text=text, details=details)


@dataclass
class Decision:
    """The decision on a proposal, in words, and what the signed-in person may do about it."""

    status: str
    label: str  # "Open", "Accepted", "Accepted with changes", "Rejected", "Withdrawn"
    decided_by: str = ""
    decided_at: datetime | None = None
    note: str = ""
    # Every decision, oldest first (the current one last).
    history: list[PastDecision] = field(default_factory=list)
    # Accepted with changes (the resolve record): what the author proposed (base -> proposal);
    # what changed in the working text meanwhile (base -> the text it was accepted into, None
    # when it had not moved on); what the facilitator changed themselves (the proposal carried
    # over -> accepted); and the proposal's changes that could not be carried over, in words.
    proposed_diff: TextDiff | None = None
    meanwhile_diff: TextDiff | None = None
    changes_diff: TextDiff | None = None
    not_carried_over: list[str] = field(default_factory=list)
    # True for an accept recorded before the facilitator's own changes were kept apart, into a
    # working text that had moved on: `changes_diff` then also holds the changes made meanwhile.
    changes_mixed: bool = False
    can_accept: bool = False
    can_reject: bool = False
    can_reopen: bool = False
    reopen_blocked: str = ""  # why a facilitator cannot reopen it now, in words
    own_proposal: bool = False  # a facilitator looking at their own proposal


def decision_for(proposal: Proposal, user: Any) -> Decision:
    """The decision panel's content for `proposal` as seen by `user`: its decision history and,
    when accepted with changes, the resolve record. At most two queries, however many decisions
    (three for a proposal decided without audit events)."""
    decision = Decision(status=proposal.status, label=status_label(proposal), note=proposal.decision_reason)
    decision.history = decision_history(proposal)
    if proposal.decided_at is not None:
        decision.decided_at = proposal.decided_at
        kind = decision.label.split()[0]  # "Accepted" (with changes or not), "Rejected"
        latest = next((d for d in reversed(decision.history) if d.label.split()[0] == kind), None)
        decision.decided_by = latest.by if latest is not None else ""
    if (
        proposal.status == ProposalStatus.ACCEPTED.value
        and proposal.accepted_with_changes
        and proposal.result_text_id is not None
    ):
        accepted = next((d for d in reversed(decision.history) if d.label.startswith("Accepted")), None)
        _resolve_record(decision, proposal, accepted.details if accepted is not None else {})
    decision.can_accept = decision.can_reject = permissions.can_decide_proposal(user, proposal)
    decision.own_proposal = permissions.is_facilitator(user) and user.id == proposal.author_id
    if permissions.is_facilitator(user) and proposal.status == ProposalStatus.REJECTED.value:
        decision.can_reopen = permissions.can_reopen_proposal(user, proposal)
        if not decision.can_reopen:
            decision.reopen_blocked = "It can be reopened while the consultation window is open."
    return decision


def _resolve_record(decision: Decision, proposal: Proposal, details: dict[str, Any]) -> None:
    """Fill the three differences of an accept with changes from its event's `details` (one query)."""
    previous_id = details.get("previous_text_id")
    moved_on = isinstance(previous_id, int) and previous_id != proposal.base_text_id
    wanted = {proposal.base_text_id, proposal.result_text_id} | ({previous_id} if moved_on else set())
    texts = texts_by_id(wanted)
    base, result = texts[proposal.base_text_id], texts[proposal.result_text_id]
    decision.proposed_diff = TextDiff.between(base.title, base.body, proposal.title, proposal.body)
    previous = texts.get(previous_id) if moved_on else None
    if previous is not None:
        decision.meanwhile_diff = TextDiff.between(base.title, base.body, previous.title, previous.body)
    carried = details.get("carried_over")
    if isinstance(carried, dict) and previous is not None:
        start_title, start_body = str(carried.get("title", "")), str(carried.get("body", ""))
        decision.not_carried_over = [str(words) for words in details.get("not_carried_over") or []]
    else:
        start_title, start_body = proposal.title, proposal.body
        decision.changes_mixed = previous is not None
    decision.changes_diff = TextDiff.between(start_title, start_body, result.title, result.body)


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
