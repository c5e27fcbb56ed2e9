"""Who may do what: one predicate per action, checked in the view and again in the service.

Templates use these only to hide buttons. `user` may be Flask-Login's anonymous user.
"""

from __future__ import annotations

from typing import Any

from .models import AlignedWork, Comment, Proposal, ProposalStatus, User, Vision


def is_member(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active


def is_facilitator(user: Any) -> bool:
    return is_member(user) and user.is_facilitator


def is_admin(user: Any) -> bool:
    return is_member(user) and user.is_admin


# --- taking part (inside the consultation window) -------------------------------------------------


def can_propose(user: Any, vision: Vision) -> bool:
    return is_member(user) and vision.is_open()


def can_edit_proposal(user: Any, proposal: Proposal) -> bool:
    """The author, while the proposal is open."""
    return (
        is_member(user)
        and proposal.author_id == user.id
        and proposal.status == ProposalStatus.OPEN.value
    )


can_withdraw_proposal = can_edit_proposal


def can_vote(user: Any, proposal: Proposal) -> bool:
    """Members other than the author, on open proposals, while the window is open."""
    return (
        is_member(user)
        and proposal.author_id != user.id
        and proposal.status == ProposalStatus.OPEN.value
        and proposal.hidden_at is None
        and proposal.vision.is_open()
    )


def can_comment(user: Any, vision: Vision) -> bool:
    return is_member(user) and vision.is_open()


def can_edit_comment(user: Any, comment: Comment) -> bool:
    return is_member(user) and comment.author_id == user.id and comment.retracted_at is None


def can_report(user: Any) -> bool:
    return is_member(user)


# --- facilitation ---------------------------------------------------------------------------------


def can_moderate(user: Any) -> bool:
    return is_facilitator(user)


def can_decide_proposal(user: Any, proposal: Proposal) -> bool:
    """Accept or reject: facilitators, never on their own proposal, while it is open."""
    return (
        is_facilitator(user)
        and proposal.author_id != user.id
        and proposal.status == ProposalStatus.OPEN.value
    )


def can_reopen_proposal(user: Any, proposal: Proposal) -> bool:
    return (
        is_facilitator(user)
        and proposal.status == ProposalStatus.REJECTED.value
        and proposal.vision.is_open()
    )


def can_edit_draft(user: Any, vision: Vision) -> bool:
    return is_facilitator(user)


def can_publish(user: Any, vision: Vision) -> bool:
    return is_facilitator(user)


def can_manage_window(user: Any, vision: Vision) -> bool:
    return is_facilitator(user)


# --- aligned work ---------------------------------------------------------------------------------


def can_submit_aligned_work(user: Any) -> bool:
    return is_member(user)


def can_edit_aligned_work(user: Any, work: AlignedWork) -> bool:
    return is_member(user) and work.submitter_id == user.id


def can_screen_aligned_work(user: Any) -> bool:
    return is_facilitator(user)


def can_see_aligned_work(user: Any, work: AlignedWork) -> bool:
    """Approved work is public; before that, its submitter and facilitators see it."""
    return work.state == "approved" or can_screen_aligned_work(user) or (
        is_member(user) and work.submitter_id == user.id
    )


# --- administration -------------------------------------------------------------------------------


def can_manage_accounts(user: Any) -> bool:
    return is_admin(user)


def can_see_account(user: Any, account: User) -> bool:
    return is_member(user) and (user.id == account.id or user.is_admin)
